"""Container lifecycle on the real engine, run by real Linux users through the installed commands."""

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest
from helpers import installed_site, run_command

IMAGE = "ds01-test/busybox:latest"


@pytest.fixture(scope="module")
def site(shared_root, installed, linux_users, docker_client):
    """An installed DS01 with its own config/state/log (as on a server: state group docker, setgid),
    two real users, and one simulated GPU so slot handling is visible."""
    root = shared_root / "containers-site"
    alice, bob = linux_users("ctr-alice"), linux_users("ctr-bob")
    config = {
        "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
        "defaults": {"max_mig_instances": 1, "max_gpus_per_container": 1, "max_cpus": 1.5,
                     "memory": "256m", "shm_size": "32m", "pids_limit": 128, "max_containers_per_user": 4},
        "groups": {"student": {"members": []}},
        "images": {"base": IMAGE, "frameworks": {"busybox-1.36": IMAGE}},
        "gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["1g.10gb"]}]},
    }
    env, bin_dir = installed_site(installed, root, config)
    yield {"env": env, "bin": bin_dir, "alice": alice, "bob": bob, "docker": docker_client}
    for entry in docker_client.api.containers(all=True, filters={"label": "ds01.managed=true"}):
        if (entry.get("Labels") or {}).get("ds01.user") in (alice.pw_name, bob.pw_name):
            subprocess.run(["docker", "rm", "-f", entry["Id"]], capture_output=True)
    for image in docker_client.images.list():
        if any(tag.startswith(("ds01-ds01t-ctr-alice/", "ds01-ds01t-ctr-bob/")) for tag in image.tags):
            subprocess.run(["docker", "rmi", "-f", image.id], capture_output=True)


def ds01(site, who, command, *args, env=None):
    login = site[who].pw_name if who in ("alice", "bob") else None
    return run_command(command, *args, user=login, bin_dir=site["bin"], env={**site["env"], **(env or {})},
                       timeout=60)


def one_line_error(result):
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_deployed_container_runs_commands_as_its_user_in_the_workspace(site):
    alice = site["alice"]
    deployed = ds01(site, "alice", "container-deploy", "demo", "--background", "--cpu-only", "--image", IMAGE)
    assert deployed.returncode == 0, deployed.stderr
    assert "running in the background" in deployed.stdout

    script = "id -u; id -g; pwd; echo $HOME; touch made-inside"
    ran = ds01(site, "alice", "container-run", "demo", "--", "sh", "-c", script)
    assert ran.returncode == 0, ran.stderr
    # HOME: a temporary home inside (not an image DS01 built), never the permanent workspace
    assert ran.stdout.split() == [str(alice.pw_uid), str(alice.pw_gid), "/workspace", "/tmp"]
    made = Path(alice.pw_dir) / "workspace" / "demo" / "made-inside"
    assert made.stat().st_uid == alice.pw_uid
    assert (Path(alice.pw_dir) / "workspace" / "demo").stat().st_uid == alice.pw_uid

    assert ds01(site, "alice", "container-run", "demo", "--", "sh", "-c", "exit 7").returncode == 7


def test_limits_labels_and_isolation_are_visible_in_docker_inspect(site):
    alice = site["alice"]
    attrs = site["docker"].containers.get(f"demo._.{alice.pw_uid}").attrs
    host = attrs["HostConfig"]
    assert host["Memory"] == 256 * 1024 ** 2 and host["MemorySwap"] == 256 * 1024 ** 2
    assert host["NanoCpus"] == 1_500_000_000
    assert host["ShmSize"] == 32 * 1024 ** 2 and host["PidsLimit"] == 128
    assert host["Privileged"] is False and host["NetworkMode"] == "bridge" and host["Init"] is True
    assert attrs["Config"]["User"] == f"{alice.pw_uid}:{alice.pw_gid}"
    assert attrs["Config"]["WorkingDir"] == "/workspace"
    labels = attrs["Config"]["Labels"]
    assert labels["ds01.managed"] == "true" and labels["ds01.user"] == alice.pw_name
    assert labels["ds01.uid"] == str(alice.pw_uid) and labels["ds01.project"] == "demo"
    assert labels["ds01.created_at"].endswith("Z") and labels["ds01.gpu.slots"] == ""
    assert labels["ds01.workspace"] == str(Path(alice.pw_dir) / "workspace" / "demo")


def test_list_and_stats_print_json_for_the_callers_containers_only(site):
    listed = ds01(site, "alice", "container-list", "--json")
    assert listed.returncode == 0, listed.stderr
    [item] = json.loads(listed.stdout)
    assert item == {"name": "demo", "user": site["alice"].pw_name, "status": "running", "image": IMAGE,
                    "gpus": [], "created": item["created"], "port": item["port"]}
    assert item["created"].endswith("Z") and 20000 <= item["port"] <= 29999  # its forwarded 127.0.0.1 port
    assert json.loads(ds01(site, "bob", "container-list", "--json").stdout) == []
    assert json.loads(ds01(site, "alice", "container", "list", "--json").stdout) == json.loads(listed.stdout)

    stats = ds01(site, "alice", "container-stats", "--json")
    assert stats.returncode == 0, stats.stderr
    [entry] = json.loads(stats.stdout)
    assert entry["name"] == "demo" and entry["status"] == "running"
    assert entry["memory_limit"] == 256 * 1024 ** 2 and 0 < entry["memory_used"] < entry["memory_limit"]
    assert entry["pids"] >= 2 and entry["cpu_percent"] >= 0 and entry["gpus"] == [] and entry["gpu"] is None


def test_other_users_are_refused_on_every_command_naming_the_container(site):
    # Names are per user: alice's `demo` is invisible to bob; naming it by its Docker name is exit 4.
    theirs = f"demo._.{site['alice'].pw_uid}"
    for command, args in (("container-stop", ()), ("container-run", ("--", "true")), ("container-start", ()),
                          ("container-retire", ("--yes",)), ("container-remove", ("--yes", "--force")),
                          ("container-stats", ()), ("container-attach", ()), ("container-run", ()),
                          ("mlc-open", ()), ("mlc-start", ()), ("mlc-stop", ()), ("mlc-stats", ()),
                          ("mlc-remove", ("--yes",))):
        result = ds01(site, "bob", command, "demo", *args)
        assert result.returncode == 1, (command, result.stderr)
        assert "no container named demo" in one_line_error(result)
        result = ds01(site, "bob", command, theirs, *args)
        assert result.returncode == 4, (command, result.stderr)
        assert f"permission denied: {theirs} belongs to {site['alice'].pw_name}" in one_line_error(result)
    assert ds01(site, "bob", "container-list", "--user", site["alice"].pw_name).returncode == 4
    assert ds01(site, "bob", "container-stop", "demo", "--user", site["alice"].pw_name).returncode == 4
    assert ds01(site, "bob", "container-list", "--all").returncode == 4
    admin = ds01(site, "root", "container-list", "--user", site["alice"].pw_name, "--json")
    assert [item["name"] for item in json.loads(admin.stdout)] == ["demo"]
    # An admin acts on a user's container only when saying so with --user.
    assert ds01(site, "root", "container-stats", "demo").returncode == 1  # root has no `demo` of its own
    for_her = ds01(site, "root", "container-stats", "demo", "--user", site["alice"].pw_name, "--json")
    assert for_her.returncode == 0 and json.loads(for_her.stdout)[0]["user"] == site["alice"].pw_name


def test_an_admin_creates_for_a_user_who_then_owns_container_and_workspace(site):
    alice = site["alice"]
    made = ds01(site, "root", "container-create", "forher", "--cpu-only", "--image", IMAGE, "--user", alice.pw_name)
    assert made.returncode == 0, made.stderr
    assert (Path(alice.pw_dir) / "workspace" / "forher").stat().st_uid == alice.pw_uid
    assert site["docker"].containers.get(f"forher._.{alice.pw_uid}").labels["ds01.user"] == alice.pw_name
    assert ds01(site, "alice", "container-remove", "forher", "--yes").returncode == 0


def at_terminal(site, who, command, *args, keys):
    """Run a command as `who` on a pseudo-terminal, type `keys`; returns (exit code, everything shown)."""
    primary, secondary = pty.openpty()
    line = ["runuser", "-u", site[who].pw_name, "--", str(site["bin"] / command), *args]
    process = subprocess.Popen(line, stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True,
                               env={**os.environ, **{key: str(value) for key, value in site["env"].items()}})
    os.close(secondary)
    os.write(primary, keys)
    output = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 1)
        if ready:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(primary)
    return process.wait(timeout=10), output


def test_a_shell_opens_at_a_terminal_and_passes_its_exit_code_back(site):
    code, output = at_terminal(site, "alice", "container-run", "demo", keys=b"echo answer-$((6*7)); id -u; exit 3\n")
    assert code == 3
    assert b"answer-42" in output and str(site["alice"].pw_uid).encode() in output


def test_attach_opens_a_shell_in_a_running_container_at_a_terminal(site):
    code, output = at_terminal(site, "alice", "container-attach", "demo", keys=b"echo attached-$((6*7)); pwd; exit 5\n")
    assert code == 5
    assert b"attached-42" in output and b"/workspace" in output


def test_retire_with_saved_changes_leaves_a_tagged_image_and_the_workspace(site):
    ran = ds01(site, "alice", "container-run", "demo", "--", "sh", "-c", "echo changed > /tmp/marker")
    assert ran.returncode == 0, ran.stderr
    retired = ds01(site, "alice", "container-retire", "demo", "--yes", "--save-changes")
    assert retired.returncode == 0, retired.stderr
    tag = next(word for word in retired.stdout.split() if word.startswith(f"ds01-{site['alice'].pw_name}/demo:"))
    image = site["docker"].images.get(tag)
    assert image.labels.get("ds01.user") == site["alice"].pw_name
    assert "untouched" in retired.stdout
    assert (Path(site["alice"].pw_dir) / "workspace" / "demo" / "made-inside").exists()
    assert json.loads(ds01(site, "alice", "container-list", "--json").stdout) == []


def test_a_gpu_slot_is_held_until_retire_and_never_leaked_by_a_failed_create(site):
    # No --open/--background and no terminal: it goes to the background.
    taken = ds01(site, "alice", "container-deploy", "gpu1", "--image", IMAGE)
    assert taken.returncode == 0, taken.stderr
    assert "running in the background" in taken.stdout
    assert json.loads(ds01(site, "alice", "container-list", "--json").stdout)[0]["gpus"] == ["0:0"]
    refused = ds01(site, "bob", "container-create", "gpu2", "--gpus", "1", "--image", IMAGE)
    assert refused.returncode == 3, refused.stderr
    # Failures inside the reservation (the name is taken) must give the slot back.
    again = ds01(site, "alice", "container-create", "gpu1", "--cpu-only", "--image", IMAGE)
    assert again.returncode == 1 and "already exists" in one_line_error(again)

    assert ds01(site, "alice", "container-retire", "gpu1", "--yes").returncode == 0
    served = ds01(site, "bob", "container-create", "gpu2", "--gpus", "1", "--image", IMAGE)
    assert served.returncode == 0, served.stderr
    missing_image = ds01(site, "alice", "container-create", "gpu3", "--image", "ds01-test/absent:none")
    assert missing_image.returncode == 1 and "absent" in one_line_error(missing_image)


def test_stopped_containers_are_cleaned_up_and_running_ones_need_force(site):
    assert ds01(site, "bob", "container-create", "idle", "--cpu-only", "--image", IMAGE).returncode == 0
    assert ds01(site, "bob", "container-start", "gpu2").returncode == 0
    refused = ds01(site, "bob", "container-remove", "gpu2", "--yes")
    assert refused.returncode == 1 and "--force" in refused.stderr
    dry = ds01(site, "bob", "container-cleanup", "--dry-run")
    assert dry.returncode == 0 and "idle" in dry.stdout and "gpu2" not in dry.stdout
    assert ds01(site, "bob", "container-cleanup").returncode == 2
    assert ds01(site, "bob", "container-cleanup", "--yes").returncode == 0
    assert [item["name"] for item in json.loads(ds01(site, "bob", "container-list", "--json").stdout)] == ["gpu2"]
    assert ds01(site, "bob", "container-remove", "gpu2", "--yes", "--force").returncode == 0


def test_mlc_commands_resolve_frameworks_through_the_config(site):
    unknown = ds01(site, "alice", "mlc-create", "ml", "pytorch", "9.9")
    assert unknown.returncode == 1 and "available: busybox 1.36" in one_line_error(unknown)
    data = Path(site["alice"].pw_dir) / "data"
    data.mkdir(exist_ok=True)
    os.chown(data, site["alice"].pw_uid, site["alice"].pw_gid)  # a data dir is mounted only if it is hers
    created = ds01(site, "alice", "mlc-create", "ml", "BusyBox", "1.36", "-g", "0", "-d", data)
    assert created.returncode == 0, created.stderr
    [row] = json.loads(ds01(site, "alice", "mlc-list", "--json").stdout)
    assert row["framework"] == "busybox-1.36" and row["status"] == "created"
    assert ds01(site, "alice", "mlc-start", "ml").returncode == 0
    assert ds01(site, "alice", "container-run", "ml", "--", "test", "-d", "/data").returncode == 0
    assert ds01(site, "alice", "mlc-remove", "ml", "--yes").returncode == 0


def test_a_shell_without_a_terminal_is_a_usage_error(site):
    assert ds01(site, "alice", "container-create", "sh1", "--cpu-only", "--image", IMAGE).returncode == 0
    result = ds01(site, "alice", "container-run", "sh1")
    assert result.returncode == 2 and "terminal" in one_line_error(result)
    # attach never starts a container: a stopped one is refused, terminal or not.
    stopped = ds01(site, "alice", "container-attach", "sh1")
    assert stopped.returncode == 1 and "sh1 is not running" in one_line_error(stopped)
    assert ds01(site, "alice", "container-start", "sh1").returncode == 0
    attach = ds01(site, "alice", "container-attach", "sh1")
    assert attach.returncode == 2 and "terminal" in one_line_error(attach)
    assert ds01(site, "alice", "container-remove", "sh1", "--yes", "--force").returncode == 0
    opened = ds01(site, "alice", "container-deploy", "sh2", "--open", "--cpu-only", "--image", IMAGE)
    assert opened.returncode == 2 and "--background" in opened.stderr
    assert "sh2" not in ds01(site, "alice", "container-list").stdout


@pytest.mark.parametrize("bad", ["Demo", "a/b", "..", "x._.1", "has space"])
def test_bad_names_are_refused_with_the_rule(ds01_env, bad):
    result = run_command("container-create", bad, "--cpu-only", "--image", IMAGE)
    assert result.returncode == 1
    assert "lowercase letters" in one_line_error(result)


def test_an_unreachable_engine_is_one_line_and_exit_1(ds01_env):
    result = run_command("container-list", env={"DOCKER_HOST": "unix:///nonexistent"})
    assert result.returncode == 1
    assert "cannot reach the Docker engine" in one_line_error(result)


def test_a_project_without_an_image_says_how_to_build_one(docker_env, unique):
    result = run_command("container-create", f"noimg-{unique}", "--cpu-only")
    assert result.returncode == 1
    assert f"image-create noimg-{unique}" in one_line_error(result)
    assert not docker_env["docker"].containers.list(all=True, filters={"name": f"noimg-{unique}"})


def test_a_user_outside_the_docker_group_gets_one_line_about_the_socket(site, linux_users):
    carol = linux_users("ctr-carol", groups=())
    result = run_command("container-list", user=carol.pw_name, bin_dir=site["bin"], env=site["env"], timeout=60)
    assert result.returncode == 4
    assert "permission denied on the Docker socket" in one_line_error(result)
