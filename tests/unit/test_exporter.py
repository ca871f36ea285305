"""The exporter against a fake engine and simulated GPUs: what each metric says, what a scrape
costs, the textfile, and promtool's verdict on the exposition."""

import os
import subprocess

import pytest
from ds01common import allocator, allocator_admin, events, gpuqueue, inventory, ledger, lifecycle
from ds01common import config as config_module
from ds01common.identity import User
from ds01common.monitoring import eventlog, exporter, snapshot
from ds01common.records import Limits
from fakes.engine import FakeEngine, ds01_labels
from helpers import need_tool, write_config

MIXED = [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"},
         {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]}]
ALICE = User("i13alice", "i13alice", 71001, 71001, "/nonexistent")
BOB = User("i13bob", "i13bob", 71002, 71002, "/nonexistent")
TWO = Limits(max_mig_instances=2, max_gpus_per_container=2, allow_full_gpu=True, max_containers_per_user=5,
             priority=10)
NOW = 1_900_000_000.0


class Engine:
    """The fake engine plus the list API's view of it, counting listings."""

    def __init__(self):
        self.docker = FakeEngine()
        self.listings = 0

    def list_containers(self):
        self.listings += 1
        return [{"Id": item.id, "Names": [f"/{item.name}"], "Labels": item.labels, "State": item.status,
                 "Created": 0} for item in self.docker.containers.list(all=True)]


@pytest.fixture
def site(ds01_env):
    write_config(ds01_env, {"gpus": {"simulate": MIXED},
                            "defaults": {"max_mig_instances": 2, "max_containers_per_user": 4, "idle_timeout": "2h"},
                            "user_overrides": {"i13bob": {"max_gpu_equivalents": 1.5, "reason": "thesis"}}})
    config = config_module.load(ds01_env["config"])
    engine = Engine()
    return dict(ds01_env, config_object=config, engine=engine, inventory=inventory.discover(config))


def create(site, user, name, count=1, status="running"):
    docker_name = f"{name}._.{user.uid}"
    with allocator.reserve(site["engine"].docker, site["config_object"], user, TWO, docker_name,
                           allocator.GpuRequest(count=count), state_dir=site["state"], log_dir=site["log"],
                           inventory_=site["inventory"]) as allocation:
        container = site["engine"].docker.containers.create(name=docker_name, labels={
            **ds01_labels(user.name, project=name), **allocation.labels})
        allocation.confirm(container.id)
    container.status = status
    return container


def take(site, now=NOW):
    return snapshot.collect(site["engine"].list_containers, site["config_object"], site["inventory"], site["state"],
                            now)


def collector(site, now=NOW):
    tally = eventlog.LiveTally(site["log"])
    return exporter.Collector(lambda: take(site, now), tally.update)


def samples(text):
    """{(name, frozenset(labels)): value} from the text exposition."""
    from prometheus_client.parser import text_string_to_metric_families
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def values(found, name):
    return {labels: value for (metric, labels), value in found.items() if metric == name}


def test_user_gpu_slots_are_what_the_allocator_status_shows(site):
    create(site, ALICE, "a", count=2)
    create(site, BOB, "b")
    found = samples(exporter.exposition(collector(site)))
    status = allocator_admin.contract_status(allocator.status(site["engine"].docker, site["config_object"],
                                                              state_dir=site["state"], log_dir=site["state"],
                                                              inventory_=site["inventory"]))
    held = {}
    for row in status["slots"]:
        if row["user"]:
            held[row["user"]] = held.get(row["user"], 0) + 1
    assert {dict(labels)["user"]: value for labels, value in values(found, "ds01_user_gpu_slots").items()} == held
    assert held == {"i13alice": 2, "i13bob": 1}


def test_slots_by_state_carry_gpu_slot_and_profile_labels(site):
    create(site, ALICE, "a")
    found = values(samples(exporter.exposition(collector(site))), "ds01_gpu_slot_state")
    assigned = [dict(labels) for labels, value in found.items() if value == 1 and dict(labels)["state"] == "assigned"]
    assert assigned == [{"slot": "1:2", "gpu": "1", "profile": "1g.10gb", "state": "assigned"}]
    assert sum(value for labels, value in found.items() if dict(labels)["state"] == "free") == 4
    holders = values(samples(exporter.exposition(collector(site))), "ds01_gpu_slot_holder")
    assert [dict(labels)["container"] for labels in holders] == ["a"]


def test_quota_and_gpu_equivalents_per_user_leave_unlimited_out(site):
    create(site, ALICE, "a")
    create(site, BOB, "b")
    found = samples(exporter.exposition(collector(site)))
    assert values(found, "ds01_user_max_gpu_slots") == {frozenset({("user", "i13alice")}): 2.0,
                                                         frozenset({("user", "i13bob")}): 2.0}
    assert values(found, "ds01_user_max_gpu_equivalents") == {frozenset({("user", "i13bob")}): 1.5}
    assert values(found, "ds01_user_gpu_equivalents")[frozenset({("user", "i13alice")})] == pytest.approx(1 / 7,
                                                                                                          abs=1e-3)


def test_containers_by_user_and_state_and_gpu_slots_per_container(site):
    create(site, ALICE, "a")
    create(site, ALICE, "cpu", count=0, status="exited")
    found = samples(exporter.exposition(collector(site)))
    assert values(found, "ds01_containers") == {
        frozenset({("user", "i13alice"), ("state", "running")}): 1.0,
        frozenset({("user", "i13alice"), ("state", "exited")}): 1.0}
    assert values(found, "ds01_container_gpu_slots") == {
        frozenset({("user", "i13alice"), ("container", "a")}): 1.0,
        frozenset({("user", "i13alice"), ("container", "cpu")}): 0.0}


def test_idle_seconds_come_from_the_last_cleanup_pass_for_running_containers_only(site):
    running = create(site, ALICE, "a")
    stopped = create(site, BOB, "b", status="exited")
    with lifecycle.state_file(site["state"]).transaction() as state:
        state["containers"] = {running.id: {"idle_seconds": 5400, "measured_at": NOW - 60},
                               stopped.id: {"idle_seconds": 99999, "measured_at": NOW - 60}}
    found = samples(exporter.exposition(collector(site)))
    assert values(found, "ds01_container_idle_seconds") == {frozenset({("user", "i13alice"), ("container", "a")}): 5400}
    assert values(found, "ds01_container_idle_timeout_seconds") == {
        frozenset({("user", "i13alice"), ("container", "a")}): 7200}


def test_queue_length_and_oldest_wait_use_the_given_clock(site):
    pid = os.getpid()
    with gpuqueue.queue_file(site["state"]).transaction() as data:
        data["waiters"] = {token: {"user": user, "login": user, "container": f"{token}._.1", "limits": {},
                                   "request": {"count": 1, "full_gpu": False}, "priority": 10, "arrival": arrival,
                                   "pid": pid, "pid_start": ledger.process_start_time(pid)}
                           for token, user, arrival in (("t1", "i13alice", NOW - 900), ("t2", "i13bob", NOW - 30))}
    found = samples(exporter.exposition(collector(site)))
    assert found[("ds01_gpu_queue_length", frozenset())] == 2
    assert found[("ds01_gpu_queue_oldest_wait_seconds", frozenset())] == 900
    assert values(found, "ds01_gpu_queue_waiting") == {frozenset({("user", "i13alice")}): 1,
                                                        frozenset({("user", "i13bob")}): 1}


def test_a_scrape_costs_one_engine_listing_and_never_writes_the_ledger(site):
    container = create(site, ALICE, "a")
    site["engine"].docker.containers._by_id.pop(container.id)  # docker rm behind DS01's back
    before = (site["state"] / "gpu-state.json").read_bytes()
    site["engine"].listings = 0
    found = samples(exporter.exposition(collector(site)))
    assert site["engine"].listings == 1
    assert (site["state"] / "gpu-state.json").read_bytes() == before
    # Reconciled in memory: the slot shows free, as the next transaction will make it.
    assert values(found, "ds01_user_gpu_slots") == {}
    assert found[("ds01_ledger_pending_corrections", frozenset())] == 1
    assert not list(site["state"].glob("*.lock")) or all(
        path.name == "gpu-state.json.lock" for path in site["state"].glob("*.lock"))


def test_lifecycle_actions_and_ledger_corrections_are_counters_from_the_log(site):
    events.record("lifecycle.retire", "i13alice", log_dir=site["log"], reason="idle")
    events.record("lifecycle.idle_warning", "i13alice", log_dir=site["log"], reason="idle")
    os.rename(site["log"] / "events.jsonl", site["log"] / "events.jsonl.1")
    events.record("lifecycle.retire", "i13bob", log_dir=site["log"], reason="gpu_hold")
    events.record("gpu.release", "i13bob", log_dir=site["log"], by="reconcile", reason="its container is gone")
    scraper = collector(site)
    found = samples(exporter.exposition(scraper))
    assert values(found, "ds01_lifecycle_actions_total") == {
        frozenset({("action", "retired"), ("reason", "idle")}): 1,
        frozenset({("action", "retired"), ("reason", "gpu_hold")}): 1,
        frozenset({("action", "warned"), ("reason", "idle")}): 1}
    assert values(found, "ds01_ledger_corrections_total") == {frozenset({("kind", "dropped")}): 1}
    events.record("lifecycle.retire", "i13bob", log_dir=site["log"], reason="gpu_hold")
    again = samples(exporter.exposition(scraper))
    assert again[("ds01_lifecycle_actions_total", frozenset({("action", "retired"), ("reason", "gpu_hold")}))] == 2


def test_an_unreachable_engine_is_a_metric_not_a_failed_scrape(site):
    from ds01common.errors import DockerUnavailable

    def down():
        raise DockerUnavailable("cannot reach the Docker engine")

    state = snapshot.collect(down, site["config_object"], site["inventory"], site["state"], NOW)
    found = samples(exporter.exposition(exporter.Collector(lambda: state, eventlog.Tally)))
    assert found[("ds01_engine_up", frozenset())] == 0


def test_slot_memory_and_utilisation_come_from_nvml_when_gpus_are_real(site, monkeypatch):
    from ds01common import nvml
    from fakes.fake_pynvml import scenario

    module = scenario("busy_outside")
    real = inventory.from_nvml(nvml.discover(module))
    state = snapshot.collect(site["engine"].list_containers, site["config_object"], real, site["state"], NOW,
                             gpu_processes=lambda: nvml.gpu_processes(module),
                             device_usage=lambda: nvml.device_usage(module), proc_root=str(site["root"]))
    found = samples(exporter.exposition(exporter.Collector(lambda: state, eventlog.Tally)))
    slot0 = frozenset({("slot", "0"), ("gpu", "0"), ("profile", "full")})
    assert values(found, "ds01_gpu_slot_utilization_ratio")[slot0] == pytest.approx(0.87)
    assert values(found, "ds01_gpu_slot_memory_used_bytes")[slot0] == 6 * 1024 ** 3
    outside = values(found, "ds01_gpu_outside_processes")
    assert sum(outside.values()) == 2 and {dict(labels)["slot"] for labels in outside} == {"0", "1"}


def test_textfile_is_written_whole_and_leaves_no_temporary_file(site, tmp_path):
    create(site, ALICE, "a")
    target = tmp_path / "textfile" / "ds01.prom"
    target.parent.mkdir()
    exporter.write_textfile(collector(site), target)
    assert [path.name for path in target.parent.iterdir()] == ["ds01.prom"]
    assert values(samples(target.read_text()), "ds01_user_gpu_slots") == {frozenset({("user", "i13alice")}): 1}


def test_the_exposition_passes_promtool_check_metrics(site):
    promtool = need_tool("promtool")
    create(site, ALICE, "a")
    events.record("lifecycle.retire", "i13alice", log_dir=site["log"], reason="idle")
    text = exporter.exposition(collector(site))
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_http_server_answers_metrics_on_slash_metrics(site):
    import threading
    import urllib.request

    create(site, ALICE, "a")
    server = exporter.http_server(collector(site), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            assert response.headers["Content-Type"].startswith("text/plain")
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'ds01_user_gpu_slots{user="i13alice"} 1.0' in text


def test_listen_takes_address_and_port():
    assert exporter.parse_listen("127.0.0.1:9401") == ("127.0.0.1", 9401)
    assert exporter.parse_listen("[::1]:9401") == ("::1", 9401)
    assert exporter.parse_listen(":9401") == ("0.0.0.0", 9401)
    for bad in ("9401", "host:", "host:99999", "host:http"):
        with pytest.raises(ValueError, match="ADDRESS:PORT"):
            exporter.parse_listen(bad)


def test_the_command_writes_a_textfile_and_refuses_a_bad_listen_address(ds01_env, tmp_path):
    from helpers import run_command

    write_config(ds01_env, {"gpus": {"simulate": MIXED}})
    target = tmp_path / "out.prom"
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    result = run_command("ds01-exporter", "--textfile", target, env=env)
    assert result.returncode == 0, result.stderr
    found = samples(target.read_text())
    assert found[("ds01_engine_up", frozenset())] == 0
    assert len(values(found, "ds01_gpu_slot_weight")) == 5
    bad = run_command("ds01-exporter", "--listen", "nowhere", env=env)
    assert bad.returncode == 2 and "ADDRESS:PORT" in bad.stderr and "Traceback" not in bad.stderr
    assert run_command("ds01-exporter").returncode == 2
