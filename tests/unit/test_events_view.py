"""ds01-events filters, ds01-status rows, and add-user-to-docker's library side."""

import datetime
import json
import os

import pytest
from ds01common import adminviews, events, identity
from ds01common.errors import UsageError
from ds01common.monitoring import eventlog
from helpers import ROOT, run_command

NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC).timestamp()
ENTRIES = [events.Event(**entry) for entry in (
    {"time": "2026-11-20T12:00:00Z", "user": "alice", "event": "container.created", "details": {"container": "a"}},
    {"time": "2026-11-22T10:30:00Z", "user": "bob", "event": "lifecycle.retire",
     "details": {"container": "b", "idle_seconds": 7300, "reason": "idle", "gpus": ["0", "1:0"]}},
    {"time": "2026-11-22T11:50:00Z", "user": "alice", "event": "lifecycle.idle_warning", "details": {"container": "a"}},
)]


def test_since_takes_durations_and_iso_dates():
    assert adminviews.parse_since("2h", now=NOW) == NOW - 7200
    assert adminviews.parse_since("1.5", now=NOW) == NOW - 5400
    assert adminviews.parse_since("2026-11-22", now=NOW) == NOW - 12 * 3600
    assert adminviews.parse_since("2026-11-22T11:00:00Z", now=NOW) == NOW - 3600


def test_a_bad_since_is_a_usage_error():
    with pytest.raises(UsageError):
        adminviews.parse_since("yesterday", now=NOW)


def test_filters_combine_user_since_and_event_prefix():
    since = adminviews.parse_since("2h", now=NOW)
    assert [e.event for e in adminviews.filter_events(ENTRIES, since=since)] == ["lifecycle.retire",
                                                                                    "lifecycle.idle_warning"]
    assert [e.event for e in adminviews.filter_events(ENTRIES, user="alice")] == ["container.created",
                                                                                     "lifecycle.idle_warning"]
    assert [e.user for e in adminviews.filter_events(ENTRIES, event="lifecycle.retire")] == ["bob"]
    assert [e.event for e in adminviews.filter_events(ENTRIES, user="alice", event="lifecycle.")] == [
        "lifecycle.idle_warning"]


def test_event_rows_show_the_numbers():
    (row,) = adminviews.event_rows([ENTRIES[1]])
    assert row[:3] == ("2026-11-22T10:30:00Z", "bob", "lifecycle.retire")
    assert "idle_seconds=7300" in row[3] and "gpus=0,1:0" in row[3]


def test_read_events_reads_the_log(tmp_path):
    events.record("lifecycle.idle_warning", "alice", log_dir=tmp_path, container="a")
    events.record("lifecycle.retire", "bob", log_dir=tmp_path, container="b")
    # As ds01-events reads it: every log file, then the filters.
    read = adminviews.filter_events(eventlog.read_all(tmp_path), event="lifecycle.idle")
    assert [e.user for e in read] == ["alice"]


def test_status_rows_show_gpus_slots_queue_idle_against_the_limit_and_quotas():
    document = {"gpus": [{"index": 1, "model": "A100", "memory": 80 << 30, "mig_enabled": True}],
                "simulated": True, "reason": None, "problems": ["GPU 2 is gone"],
                "slots": [{"id": "1:0", "profile": "3g.40gb", "weight": 0.429, "user": "bob", "container": "b._.2",
                           "state": "assigned", "container_status": "running"},
                          {"id": "1:1", "profile": "2g.20gb", "weight": 0.286, "user": None, "container": None,
                           "state": "free"}],
                "unknown_slots": [{"id": "3", "weight": 1.0, "user": "bob", "container": "old._.2"}],
                "queue": [{"user": "carol", "container": "c._.3", "priority": 30, "count": 2, "since": "t"}],
                "containers": [{"user": "bob", "name": "b", "status": "running", "gpus": ["1:0"],
                                "cpu_percent": 0.3, "idle_seconds": 1800, "idle_timeout": 7200}],
                "users": [{"user": "bob", "group": "researcher", "containers": 1, "max_containers": 3,
                           "slots": 2, "max_slots": None, "weight": 1.429, "max_weight": 2}]}
    assert adminviews.gpu_lines(document) == ["GPU 1  A100  80g  MIG (simulated)",
                                              "1 of 2 slots in use (0.43 of 0.71 GPU-equivalents)",
                                              "warning: GPU 2 is gone"]
    assert adminviews.slot_rows(document) == [("1:0", "3g.40gb", 0.429, "assigned", "bob", "b (running)"),
                                              ("1:1", "2g.20gb", 0.286, "free", "-", "-"),
                                              ("3", "full", 1.0, "vanished", "bob", "old")]
    assert adminviews.queue_rows(document) == [(1, "carol", "c", 30, 2, "t")]
    assert adminviews.container_rows(document) == [("bob", "b", "running", "1:0", "0.3", "30m / 2h")]
    assert adminviews.user_rows(document) == [("bob", "researcher", "1/3", "2/∞", "1.429/2")]


def test_a_host_without_gpus_says_why():
    assert adminviews.gpu_lines({"gpus": [], "simulated": False, "reason": "no NVML", "slots": [],
                                 "problems": []}) == ["no GPUs: no NVML; containers run CPU-only"]


def test_adding_a_user_to_docker_runs_usermod_and_records_it(tmp_path, monkeypatch):
    user = identity.User("ds01t-zed", "ds01t-zed", 4242, 4242, "/home/zed")
    monkeypatch.setattr(identity, "lookup_user", lambda name: user)
    calls = []
    result = adminviews.add_user_to_docker("ds01t-zed", actor="root", log_dir=tmp_path, run=calls.append,
                                           group_name="ds01-no-such-group")
    assert result == {"user": "ds01t-zed", "added": True}
    assert calls == [["usermod", "-aG", "ds01-no-such-group", "ds01t-zed"]]
    (entry,) = events.read(tmp_path)
    assert entry.event == "user.added_to_docker" and entry.details["actor"] == "root"


def test_a_user_already_in_the_group_is_left_alone(tmp_path, monkeypatch):
    import grp
    group = grp.getgrgid(0)
    user = identity.User("someone", "someone", 4242, group.gr_gid, "/home/x")
    monkeypatch.setattr(identity, "lookup_user", lambda name: user)
    calls = []
    result = adminviews.add_user_to_docker("someone", actor="root", log_dir=tmp_path, run=calls.append,
                                           group_name=group.gr_name)
    assert result["added"] is False and calls == []


def test_ds01_events_prints_filtered_json(ds01_env):
    events.record("lifecycle.idle_warning", "alice", log_dir=ds01_env["log"], container="a", idle_seconds=3000)
    events.record("container.created", "bob", log_dir=ds01_env["log"], container="b")
    result = run_command("ds01-events", "--user", "alice", "--since", "1h", "--json")
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["event"] == "lifecycle.idle_warning" and entry["details"]["idle_seconds"] == 3000
    table = run_command("ds01-events", "--event", "container.")
    assert "container.created" in table.stdout and "lifecycle.idle_warning" not in table.stdout


def test_ds01_events_refuses_a_bad_since_with_exit_2(ds01_env):
    result = run_command("ds01-events", "--since", "last tuesday")
    assert result.returncode == 2 and "--since" in result.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="running as another user needs root")
@pytest.mark.parametrize("command", [["add-user-to-docker", "root"], ["cleanup-idle-containers"],
                                     ["setup-resource-slices", "--apply", "--unit-dir", "/tmp/ds01-never"]])
def test_admin_commands_refuse_ordinary_users_with_exit_4(command):
    result = run_command(*command, user="nobody", env={"DS01_CONFIG": str(ROOT / "config" / "resource-limits.yaml")})
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "permission denied" in result.stderr


def test_status_joins_containers_idle_state_slots_and_quotas(tmp_path):
    import yaml
    from ds01common import config as config_module
    from ds01common import lifecycle
    from fakes.engine import FakeEngine

    (tmp_path / "limits.yaml").write_text(yaml.safe_dump({
        "default_group": "student", "groups": {"student": {"members": []}},
        "defaults": {"max_containers_per_user": 3, "max_mig_instances": 2, "idle_timeout": "1h"}}))
    config = config_module.load(tmp_path / "limits.yaml")
    docker = FakeEngine()
    running = docker.api.add("a._.1", {"ds01.managed": "true", "ds01.user": "alice", "ds01.project": "a",
                                       "ds01.gpu.slots": "1:0"})
    docker.api.add("b._.1", {"ds01.managed": "true", "ds01.user": "alice", "ds01.project": "b"}, status="exited")
    docker.api.add("x", {"ds01.user": "alice"})
    with lifecycle.state_file(tmp_path).transaction() as state:
        state["containers"] = {running: {"idle_seconds": 1500, "cpu_percent": 0.2, "measured_at": NOW}}
    slots = {"slots": [{"id": "1:0", "weight": 3 / 7, "user": "alice", "container": "a._.1"},
                       {"id": "1:1", "weight": 2 / 7, "user": None, "container": None}],
             "unknown_slots": [{"id": "5", "weight": 1.0, "user": "dave", "container": "gone._.9"}],
             "gpus": [{"index": 1}], "queue": [], "reason": None, "problems": [], "simulated": True}
    document = adminviews.status(docker, config, state_dir=tmp_path, log_dir=tmp_path, allocator_status=slots,
                                 lookup=lambda name: identity.User(name, name, 1, 1, "/"))
    assert [(c["name"], c["idle_seconds"], c["idle_timeout"]) for c in document["containers"]] == [
        ("a", 1500, 3600), ("b", None, 3600)]
    assert document["slots"] == slots["slots"] and document["gpus"] == slots["gpus"] and document["simulated"]
    alice, dave = document["users"]
    assert (alice["containers"], alice["max_containers"], alice["slots"], alice["max_slots"]) == (2, 3, 1, 2)
    assert alice["weight"] == 0.4286 and alice["group"] == "student"
    assert (dave["user"], dave["containers"], dave["slots"]) == ("dave", 0, 1)
