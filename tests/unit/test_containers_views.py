"""Stats arithmetic, the docker exec line, and the words the container commands print."""

import os

import pytest
from ds01common import container_cli, container_exec, container_stats, identity
from ds01common.errors import UsageError
from ds01common.records import Limits
from fakes.engine import FakeEngine

SAMPLE = {
    "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}, "system_cpu_usage": 20_000_000_000,
                  "online_cpus": 4},
    "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 16_000_000_000},
    "memory_stats": {"usage": 300 * 1024 ** 2, "limit": 1024 ** 3, "stats": {"cache": 100 * 1024 ** 2}},
    "pids_stats": {"current": 7},
}
ALICE = identity.User("alice", "alice", 1500, 1500, "/home/alice")


def test_cpu_percent_is_relative_to_one_core_like_docker_stats():
    # 1 s of CPU in 4 s of all-CPU time on 4 CPUs: one full core.
    assert container_stats.cpu_percent(SAMPLE) == 100.0


def test_a_first_sample_without_a_previous_one_is_zero_cpu():
    assert container_stats.cpu_percent(dict(SAMPLE, precpu_stats={})) == 0.0


def test_memory_in_use_leaves_out_the_page_cache():
    assert container_stats.memory_used(SAMPLE) == 200 * 1024 ** 2
    cgroup2 = {"memory_stats": {"usage": 50, "stats": {"inactive_file": 20}}}
    assert container_stats.memory_used(cgroup2) == 30


def labels(user, project, uid):
    return {"ds01.managed": "true", "ds01.user": user, "ds01.uid": str(uid), "ds01.project": project,
            "ds01.created_at": "2026-01-01T00:00:00Z", "ds01.gpu.slots": "1:0", "ds01.workspace": "/w"}


def test_stats_sample_running_containers_in_parallel_and_skip_stopped_ones():
    engine = FakeEngine()
    running = [engine.add(f"r{index}._.1500", labels("alice", f"r{index}", 1500)) for index in range(6)]
    engine.add("s._.1500", labels("alice", "s", 1500), status="exited")
    engine.add("theirs._.1600", labels("bob", "theirs", 1600))
    for container in running:
        engine.samples[container.id] = SAMPLE
    stats = container_stats.collect(engine, ALICE)
    assert engine.calls["list"] == 1 and engine.calls["stats"] == 6
    by_name = {item["name"]: item for item in stats}
    assert set(by_name) == {"r0", "r1", "r2", "r3", "r4", "r5", "s"}
    assert by_name["r3"]["cpu_percent"] == 100.0 and by_name["r3"]["pids"] == 7
    assert by_name["r3"]["memory_limit"] == 1024 ** 3 and by_name["r3"]["gpus"] == ["1:0"]
    assert by_name["s"]["pids"] is None and by_name["s"]["cpu_percent"] == 0.0


def test_stats_for_one_container_check_its_owner():
    engine = FakeEngine()
    engine.add("theirs._.1600", labels("bob", "theirs", 1600))
    from ds01common.errors import PermissionDenied
    with pytest.raises(PermissionDenied, match="belongs to bob"):  # named explicitly: exit 4
        container_stats.collect(engine, ALICE, "theirs._.1600")


class _Container:
    name = "demo._.1500"


def test_commands_run_as_the_user_in_the_workspace(monkeypatch):
    monkeypatch.setattr(container_exec.process, "which", lambda program: "/usr/bin/docker")
    line = container_exec.exec_command(ALICE, _Container(), ["python", "train.py"], terminal=True)
    assert line == ["/usr/bin/docker", "exec", "-i", "-t", "-u", "1500:1500", "-w", "/workspace",
                    "demo._.1500", "python", "train.py"]  # HOME: the container's own, not the workspace


def test_a_shell_without_a_terminal_is_a_usage_error_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(container_exec, "terminal_attached", lambda: False)
    engine = FakeEngine()
    engine.add("demo._.1500", labels("alice", "demo", 1500), status="exited")
    with pytest.raises(UsageError, match="container-run demo -- CMD"):
        container_exec.shell(engine, ALICE, "demo", state_dir=tmp_path, log_dir=None)
    assert engine.calls["start"] == 0


def test_a_shell_in_someone_elses_container_is_refused_before_the_terminal_is_asked_about(monkeypatch, tmp_path):
    monkeypatch.setattr(container_exec, "terminal_attached", lambda: pytest.fail("terminal checked first"))
    engine = FakeEngine()
    engine.add("theirs._.1600", labels("bob", "theirs", 1600))
    from ds01common.errors import PermissionDenied
    with pytest.raises(PermissionDenied, match="theirs._.1600 belongs to bob"):
        container_exec.shell(engine, ALICE, "theirs._.1600", start=False, state_dir=tmp_path, log_dir=None)


def test_attach_refuses_a_stopped_container_without_starting_it(monkeypatch, tmp_path):
    monkeypatch.setattr(container_exec, "terminal_attached", lambda: True)
    engine = FakeEngine()
    engine.add("demo._.1500", labels("alice", "demo", 1500), status="exited")
    from ds01common.errors import Ds01Error
    with pytest.raises(Ds01Error, match="demo is not running: use `container-run demo`"):
        container_exec.shell(engine, ALICE, "demo", start=False, state_dir=tmp_path, log_dir=None)
    assert engine.calls["start"] == 0


def test_the_shell_prefers_bash_and_falls_back_to_sh():
    script = container_exec.SHELL[-1]
    assert "exec bash" in script and "exec sh" in script


def test_wait_without_seconds_means_until_served():
    assert container_cli.wait_seconds(None) is None
    assert container_cli.wait_seconds(container_cli.WAIT_FOREVER) == float("inf")
    assert container_cli.wait_seconds(30.0) == 30.0


@pytest.mark.parametrize("value", ["-5", "nan", "soon"])
def test_a_negative_or_unreadable_wait_is_a_usage_error_not_wait_forever(value, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    container_cli.add_create_options(parser)
    assert parser.parse_args(["--wait"]).wait == container_cli.WAIT_FOREVER
    with pytest.raises(SystemExit) as caught:
        parser.parse_args([f"--wait={value}"])
    assert caught.value.code == 2 and "--wait" in capsys.readouterr().err


def test_exit_help_says_the_container_keeps_running_and_the_workspace_stays():
    text = "\n".join(container_cli.exit_help(Limits(idle_timeout=7200)))
    assert "Ctrl-D" in text and "keeps running" in text and "2h" in text and "always kept" in text


def test_retire_words_say_the_workspace_is_untouched():
    lines = container_cli.retired_lines({"name": "demo", "gpus": ["0"], "workspace": "/w/demo",
                                         "image": "ds01-alice/demo:20260101-000000"})
    assert "GPU 0 freed" in lines[0] and "ds01-alice/demo:20260101-000000" in lines[1]
    assert lines[2] == "  workspace /w/demo untouched"


def test_tables_show_the_user_column_only_for_everyone():
    item = {"name": "demo", "user": "alice", "status": "running", "image": "img", "gpus": [], "created": "t"}
    rows, headers = container_cli.list_rows([item])
    assert headers[0] == "NAME" and rows == [["demo", "running", "img", "-", "-", "t"]]
    rows, headers = container_cli.list_rows([dict(item, port=20001)])
    assert headers[4] == "PORT" and rows[0][4] == 20001
    rows, headers = container_cli.list_rows([item], show_user=True)
    assert headers[0] == "USER" and rows[0][0] == "alice"


def test_the_dispatcher_knows_every_container_command():
    from ds01common import dispatch
    from helpers import BIN, run_command

    present = {path.name[len("container-"):] for path in BIN.glob("container-*") if os.access(path, os.X_OK)}
    assert set(dispatch.subcommands("container")) == present
    assert {"create", "deploy", "retire", "run", "list"} <= present
    help_text = run_command("container", "--help").stdout
    assert all(f"  {sub}" in help_text for sub in present)


def _answer_once(socket_path, reply, received):
    import socket
    import threading

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_path))
    server.listen(1)

    def serve():
        connection, _ = server.accept()
        received.append(connection.recv(65536))
        connection.sendall(reply)
        connection.close()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_listing_speaks_to_a_local_socket_directly_with_the_filters(tmp_path, monkeypatch):
    from urllib.parse import unquote_plus

    from ds01common import dockerapi
    socket_path = tmp_path / "docker.sock"
    received = []
    body = b'[{"Id": "abc", "Names": ["/demo._.1500"], "State": "running", "Labels": {}}]'
    thread = _answer_once(socket_path, b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body, received)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    entries = dockerapi.list_containers({"label": ["ds01.managed=true", "ds01.user=alice"]})
    thread.join(5)
    assert entries[0]["Id"] == "abc"
    request = unquote_plus(received[0].decode())
    assert request.startswith("GET /containers/json?all=1&filters=")
    assert '"label": ["ds01.managed=true", "ds01.user=alice"]' in request


def test_an_engine_error_on_the_direct_path_is_one_line(tmp_path, monkeypatch):
    from ds01common import dockerapi
    from ds01common.errors import Ds01Error
    socket_path = tmp_path / "docker.sock"
    thread = _answer_once(socket_path, b'HTTP/1.0 400 Bad Request\r\n\r\n{"message": "invalid filter"}', [])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    with pytest.raises(Ds01Error, match="^docker: invalid filter$"):
        dockerapi.list_containers({"label": "x"})
    thread.join(5)


def test_no_engine_at_the_socket_is_unavailable(tmp_path, monkeypatch):
    from ds01common import dockerapi
    from ds01common.errors import DockerUnavailable
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    with pytest.raises(DockerUnavailable, match="cannot reach the Docker engine"):
        dockerapi.list_containers({"label": "x"})


def test_container_exit_explains_leaving_with_the_callers_idle_timeout(ds01_env):
    from helpers import run_command, write_config
    write_config(ds01_env, {"defaults": {"idle_timeout": "3h"}})
    result = run_command("container", "exit")
    assert result.returncode == 0 and result.stderr == ""
    assert "Ctrl-D" in result.stdout and "retired automatically after 3h" in result.stdout


def test_the_dispatcher_refuses_an_unknown_subcommand_as_a_usage_error(ds01_env):
    from helpers import run_command
    result = run_command("container", "bogus")
    assert result.returncode == 2 and "unknown subcommand 'bogus'" in result.stderr and "retire" in result.stderr
