"""container-stats' GPU use under fake NVML: memory per container through the cgroup mapping,
utilisation for full GPUs, and an honest note (no number) for MIG instances."""

import json
import sys

import pytest
from ds01common import dockerapi, gpu_use
from ds01common.commands import container_stats as command
from ds01common.identity import current_user
from fakes import fake_pynvml
from fakes.engine import FakeEngine

GIB = 1024 ** 3


def labels(user, project, slots):
    return {"ds01.managed": "true", "ds01.user": user.name, "ds01.uid": str(user.uid), "ds01.project": project,
            "ds01.created_at": "2026-01-01T00:00:00Z", "ds01.gpu.slots": slots, "ds01.workspace": "/w"}


@pytest.fixture
def busy(ds01_env, tmp_path, monkeypatch):
    """The "busy_in_containers" scenario with its containers on a fake engine, as the command sees them."""
    me = current_user()
    engine = FakeEngine()
    for name, slots, container_id in (("full", "0", fake_pynvml.FULL_CONTAINER),
                                      ("mig", "1:0", fake_pynvml.MIG_CONTAINER), ("cpu", "", "e" * 64)):
        engine.add(f"{name}._.{me.uid}", labels(me, name, slots)).id = container_id
    engine.add(f"stopped._.{me.uid}", labels(me, "stopped", "0"), status="exited")
    proc = tmp_path / "proc"
    fake_pynvml.busy_in_containers_processes(proc, me.uid)
    monkeypatch.setattr(gpu_use, "PROC_ROOT", str(proc))
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.scenario("busy_in_containers"))
    monkeypatch.setattr(dockerapi, "LazyClient", lambda *args, **kwargs: engine)
    return engine


def test_stats_json_carries_gpu_memory_and_processes_per_container(busy, capsys):
    assert command.main(["--json"]) == 0
    by_name = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    full, mig = by_name["full"]["gpu"], by_name["mig"]["gpu"]
    assert full["memory"] == 4 * GIB and full["utilization"] == 64 and full["note"] is None
    assert sorted((process["pid"], process["memory"]) for process in full["processes"]) == [
        (5151, 3 * GIB), (5152, 1 * GIB)]  # the host process on the same GPU is nobody's
    assert mig["memory"] == 5 * GIB and mig["processes"][0]["gpu_uuid"] == "MIG-eeee-0"
    assert mig["utilization"] is None and mig["note"] == gpu_use.MIG_UTILISATION_NOTE
    assert by_name["cpu"]["gpu"] is None
    assert by_name["stopped"]["gpu"] == {"slots": ["0"], "memory": 0, "utilization": None, "note": None,
                                         "processes": []}


def test_stats_table_shows_gpu_memory_utilisation_and_says_mig_has_none(busy, capsys):
    assert command.main([]) == 0
    output = capsys.readouterr().out
    rows = {line.split()[0]: line for line in output.splitlines()[1:] if line.strip()}
    assert "GPU MEM" in output and "GPU UTIL" in output
    assert " 4g " in rows["full"] and "64%" in rows["full"]
    assert " 5g " in rows["mig"] and "n/a*" in rows["mig"]
    assert "NVML gives no utilisation per MIG instance" in output


def test_nvml_is_not_asked_when_no_running_container_holds_a_gpu():
    def refuse():
        raise AssertionError("NVML was asked")

    measured = gpu_use.measure([{"id": "a", "gpus": [], "status": "running"},
                                {"id": "b", "gpus": ["0"], "status": "exited"}], gpu_processes=refuse)
    assert set(measured) == {"b"} and measured["b"].memory == 0
