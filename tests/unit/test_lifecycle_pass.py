"""A whole cleanup pass against a fake engine: state, events, notices, retire, --dry-run."""

import json
import time

import yaml
from ds01common import config as config_module
from ds01common import events, identity, lifecycle
from ds01common.errors import Ds01Error
from fakes.engine import FakeEngine


def setup(tmp_path, lifecycle_section=None, simulate=True):
    document = {"default_group": "student", "groups": {"student": {"members": []}},
                "defaults": {"idle_timeout": "60s", "max_runtime": "1h", "gpu_hold_after_stop": "10m"},
                "lifecycle": dict({"stats_sample_seconds": 0.5}, **(lifecycle_section or {}))}
    if simulate:
        document["gpus"] = {"simulate": [{"model": "A100", "memory": "80g"}]}
    (tmp_path / "limits.yaml").write_text(yaml.safe_dump(document))
    for name in ("state", "log", "ws"):
        (tmp_path / name).mkdir()
    return config_module.load(tmp_path / "limits.yaml")


def add(docker, tmp_path, name, cpu=0.0, started_ago=120, status="running", slots=""):
    now = time.time()
    workspace = tmp_path / "ws" / name
    workspace.mkdir(exist_ok=True)
    labels = {"ds01.managed": "true", "ds01.user": "alice", "ds01.uid": "1001", "ds01.workspace": str(workspace),
              "ds01.gpu.slots": slots}
    return docker.api.add(f"{name}._.1001", labels, status=status, created=now - started_ago - 5,
                          started=now - started_ago, finished=now - 5 if status == "exited" else None, cpu=cpu)


class Recorder:
    def __init__(self, fail=None):
        self.retired = []
        self.notices = []
        self.fail = fail or set()

    def retire(self, docker, config, user, name, *, state_dir, log_dir, actor, reason):
        if name in self.fail:
            raise Ds01Error(f"{name} would not stop")
        self.retired.append((user.name, user.uid, name, reason, actor))

    def notify(self, owner, observation, message):
        self.notices.append((owner.login, observation.name, message))


def lookup(name):
    return identity.User(name, name, 1001, 1001, f"/home/{name}")


def run(tmp_path, config, docker, recorder, **options):
    return lifecycle.run_pass(docker, config, state_dir=tmp_path / "state", log_dir=tmp_path / "log",
                              retire=recorder.retire, notify=recorder.notify, lookup=lookup,
                              gpu_processes=options.pop("gpu_processes", None), **options)


def test_a_pass_retires_the_idle_keeps_the_busy_and_records_both(tmp_path):
    config = setup(tmp_path)
    docker = FakeEngine()
    add(docker, tmp_path, "idle")
    busy = add(docker, tmp_path, "busy", cpu=80.0)
    recorder = Recorder()
    report = run(tmp_path, config, docker, recorder)
    assert recorder.retired == [("alice", 1001, "idle", "idle", "cleanup-idle-containers")]
    assert [notice[1] for notice in recorder.notices] == ["idle"]
    (entry,) = [e for e in events.read(tmp_path / "log") if e.event == "lifecycle.retire"]
    assert entry.user == "alice" and entry.details["reason"] == "idle"
    assert entry.details["idle_seconds"] >= 120 and entry.details["threshold_seconds"] == 60
    state = json.loads((tmp_path / "state" / "lifecycle.json").read_text())
    assert list(state["containers"]) == [busy]
    assert report["checked"] == 2 and [a["container"] for a in report["actions"]] == ["idle"]


def test_dry_run_changes_records_and_sends_nothing(tmp_path):
    config = setup(tmp_path)
    docker = FakeEngine()
    add(docker, tmp_path, "idle")
    add(docker, tmp_path, "warned", started_ago=50)
    recorder = Recorder()
    report = run(tmp_path, config, docker, recorder, dry_run=True)
    assert sorted((a["action"], a["container"]) for a in report["actions"]) == [("retire", "idle"), ("warn", "warned")]
    assert recorder.retired == [] and recorder.notices == []
    assert not (tmp_path / "state" / "lifecycle.json").exists()
    assert events.read(tmp_path / "log") == []


def test_a_failed_retirement_is_an_event_and_the_container_stays_tracked(tmp_path):
    config = setup(tmp_path)
    docker = FakeEngine()
    stuck = add(docker, tmp_path, "stuck")
    recorder = Recorder(fail={"stuck"})
    run(tmp_path, config, docker, recorder)
    assert [e.event for e in events.read(tmp_path / "log")] == ["lifecycle.error"]
    state = json.loads((tmp_path / "state" / "lifecycle.json").read_text())
    assert stuck in state["containers"]


def test_a_warning_is_sent_once_across_passes(tmp_path):
    config = setup(tmp_path)
    docker = FakeEngine()
    add(docker, tmp_path, "soon", started_ago=50)
    recorder = Recorder()
    run(tmp_path, config, docker, recorder)
    run(tmp_path, config, docker, recorder)
    assert [e.event for e in events.read(tmp_path / "log")] == ["lifecycle.idle_warning"]
    assert len(recorder.notices) == 1 and "idle" in recorder.notices[0][2]


def test_simulated_gpus_never_ask_nvml_for_processes(tmp_path, monkeypatch):
    config = setup(tmp_path)
    docker = FakeEngine()
    add(docker, tmp_path, "busy", cpu=50.0)
    from ds01common import activity

    asked = []

    def no_nvml():
        asked.append(True)
        raise AssertionError("NVML must not be called with a simulated inventory")

    monkeypatch.setattr(activity, "default_gpu_processes", no_nvml)
    recorder = Recorder()
    report = run(tmp_path, config, docker, recorder)
    assert asked == []
    assert report["checked"] == 1 and recorder.retired == []  # busy on CPU: observed and kept


def test_a_pass_limited_to_a_directory_keeps_other_state(tmp_path):
    config = setup(tmp_path)
    docker = FakeEngine()
    add(docker, tmp_path, "mine")
    state_path = tmp_path / "state" / "lifecycle.json"
    state_path.write_text(json.dumps({"schema_version": 1, "containers": {
        "elsewhere": {"workspace": "/srv/other/p", "last_active": 1}}}))
    recorder = Recorder()
    run(tmp_path, config, docker, recorder, workspace_under=str(tmp_path / "ws"))
    assert recorder.retired[0][2] == "mine"
    assert "elsewhere" in json.loads(state_path.read_text())["containers"]


def test_a_stopped_gpu_holder_past_the_hold_is_retired_and_a_cpu_only_one_kept(tmp_path):
    config = setup(tmp_path, simulate=True)
    docker = FakeEngine()
    now = time.time()
    for name, slots in (("holder", "0"), ("plain", "")):
        docker.api.add(f"{name}._.1001", {"ds01.managed": "true", "ds01.user": "alice", "ds01.uid": "1001",
                                          "ds01.gpu.slots": slots}, status="exited", created=now - 7200,
                       started=now - 7000, finished=now - 601)
    recorder = Recorder()
    run(tmp_path, config, docker, recorder)
    assert [(name, reason) for _, _, name, reason, _ in recorder.retired] == [("holder", "gpu_hold")]
