"""A real Prometheus (Debian's, started here on a loopback port) scrapes ds01-exporter while DS01
creates and retires containers on the real engine; PromQL must agree with `gpu-allocator status`."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from ds01common import config as config_module
from ds01common import containers, identity
from helpers import BIN, need_tool, run_command, write_config

SIMULATED = [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"},
             {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]}]
DEADLINE = 30.0  # Prometheus scrapes every second; this is the longest a series may lag


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a loopback test URL
        return response.read().decode()


def wait_for(check, what, deadline=DEADLINE):
    """Poll `check()` until it returns something truthy: the exporter and Prometheus are other processes."""
    give_up = time.monotonic() + deadline
    last = None
    while time.monotonic() < give_up:
        try:
            last = check()
        except (OSError, urllib.error.URLError, ValueError) as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {deadline:.0f}s (last: {last!r})")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def site(docker_env, shared_root, unique):
    homes = shared_root / f"i13homes-{unique}"  # workspaces are made as their owner: not under 0700 tmp dirs
    homes.mkdir()
    docker_env["homes"] = homes
    write_config(docker_env, {"gpus": {"simulate": SIMULATED}, "workspace_root": "~/workspace",
                              "defaults": {"max_mig_instances": 2, "max_gpus_per_container": 2, "max_cpus": 1,
                                           "memory": "256m", "shm_size": "64m", "pids_limit": 128,
                                           "max_containers_per_user": 5, "allow_full_gpu": True}})
    yield docker_env
    # docker_env removes the containers under its tmp root; these workspaces live elsewhere.
    for container in docker_env["docker"].containers.list(all=True, filters={"label": "ds01.managed=true"}):
        if container.labels.get("ds01.workspace", "").startswith(str(homes)):
            container.remove(force=True)


@pytest.fixture
def exporter_url(site):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(BIN / "ds01-exporter"), "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_for(lambda: process.poll() is None and "ds01_gpu_slot_state" in fetch(url), "the exporter answering",
                 deadline=20)
        yield url
    finally:
        stop(process)
        process.stderr.close()


@pytest.fixture
def prometheus(exporter_url, tmp_path):
    """Debian's prometheus scraping the exporter every second; stopped (and its data removed) after."""
    binary = need_tool("prometheus")
    port = free_port()
    target = urllib.parse.urlparse(exporter_url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      f"scrape_configs:\n  - job_name: ds01\n    static_configs:\n      - targets: ['{target}']\n")
    process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is None and "Ready" in fetch(f"{base}/-/ready"), "Prometheus starting")
        yield base
    finally:
        stop(process)


def query(base, promql):
    """{frozenset(labels): value} of an instant PromQL query, through Prometheus' HTTP API."""
    answer = json.loads(fetch(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"))
    assert answer["status"] == "success", answer
    return {frozenset((key, value) for key, value in item["metric"].items() if key not in ("job", "instance")):
            float(item["value"][1]) for item in answer["data"]["result"]}


def slots_per_user_from_status():
    result = run_command("gpu-allocator", "status", "--json")
    assert result.returncode == 0, result.stderr
    held = {}
    for row in json.loads(result.stdout)["slots"]:
        if row["user"]:
            held[row["user"]] = held.get(row["user"], 0) + 1
    return held


def slots_per_user_from_prometheus(base):
    return {dict(labels)["user"]: int(value) for labels, value in query(base, "ds01_user_gpu_slots").items()
            if value > 0}


def mine(held):
    """Only this test's users: the engine is shared, and the ledger adopts every DS01 container on it."""
    return {user: count for user, count in held.items() if user.startswith("i13")}


def agree(base):
    """Prometheus' latest scrape shows exactly the holdings gpu-allocator status shows."""
    expected = slots_per_user_from_status()
    return expected if slots_per_user_from_prometheus(base) == expected else None


def fake_user(site, name, uid):
    """A DS01 user that has no account: a uid, a home it owns (the engine needs no account)."""
    home = site["homes"] / name
    home.mkdir()
    os.chown(home, uid, uid)
    return identity.User(name, name, uid, uid, str(home))


def make(site, config, user, name, gpus):
    return containers.create(site["docker"], config, user, name, image="ds01-test/busybox:latest", gpus=gpus,
                             cpu_only=gpus == 0, state_dir=site["state"], log_dir=site["log"])


def test_prometheus_sees_the_slots_each_user_holds_after_creates_and_retires(site, prometheus):
    config = config_module.load(site["config"])
    alice, bob = fake_user(site, "i13alice", 71301), fake_user(site, "i13bob", 71302)
    make(site, config, alice, "train", 2)
    make(site, config, bob, "eval", 1)
    make(site, config, bob, "notes", 0)
    held = wait_for(lambda: agree(prometheus), "Prometheus showing the holdings after the creates")
    assert mine(held) == {"i13alice": 2, "i13bob": 1}
    containers_by_user = query(prometheus, 'sum by (user) (ds01_containers{user=~"i13.*"})')
    assert containers_by_user == {frozenset({("user", "i13alice")}): 1, frozenset({("user", "i13bob")}): 2}
    held_slots = query(prometheus, 'sum by (user) (ds01_gpu_slot_holder{user=~"i13.*"})')
    assert held_slots == {frozenset({("user", "i13alice")}): 2, frozenset({("user", "i13bob")}): 1}

    containers.retire(site["docker"], config, alice, "train", state_dir=site["state"], log_dir=site["log"])
    held = wait_for(lambda: agree(prometheus), "Prometheus showing the holdings after the retire")
    assert mine(held) == {"i13bob": 1}
    assert query(prometheus, 'up{job="ds01"}') == {frozenset({("__name__", "up")}): 1}
    assert query(prometheus, 'ds01_events_total{event="container.retired"}') == {
        frozenset({("__name__", "ds01_events_total"), ("event", "container.retired")}): 1}


def test_the_live_exposition_passes_promtool_check_metrics(site, exporter_url):
    promtool = need_tool("promtool")
    config = config_module.load(site["config"])
    make(site, config, fake_user(site, "i13carol", 71303), "c", 1)
    text = fetch(exporter_url)
    assert 'ds01_user_gpu_slots{user="i13carol"} 1.0' in text
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
