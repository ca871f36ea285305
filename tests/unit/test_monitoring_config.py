"""What config/monitoring ships: alert rules that promtool accepts and whose unit tests pass, and a
Grafana dashboard whose every query names a metric the exporter really emits."""

import json
import re
import subprocess
from collections import Counter

import pytest
from ds01common.gpu_outside import OutsideProcess
from ds01common.monitoring import eventlog, exporter, snapshot
from helpers import ROOT, need_tool

MONITORING = ROOT / "config" / "monitoring"
RULES = MONITORING / "ds01-alerts.yml"
RULE_TESTS = MONITORING / "ds01-alerts.test.yml"
DASHBOARD = MONITORING / "ds01-grafana-dashboard.json"
METRIC_RE = re.compile(r"\bds01_[a-z0-9_]+")
PROMETHEUS_OWN = {"up"}


def full_snapshot():
    """A snapshot with something in every field, so every metric family has samples."""
    state = snapshot.Snapshot(taken_at=1_900_000_000.0)
    state.slots = [snapshot.SlotView("0", 0, "full", 1.0, "assigned", "alice", "train", 2 << 30, 80 << 30, 0.5),
                   snapshot.SlotView("1:0", 1, "3g.40gb", 0.4286, "free", None, None, 0, 40 << 30, None)]
    state.containers = [snapshot.ContainerView("train", "alice", "running", 1, 600.0, 7200.0, 1_899_999_000.0)]
    state.users = [snapshot.UserView("alice", 1, 1.0, 1, 2, 1.5, 3)]
    state.queue_length, state.queue_oldest_wait, state.queue_by_user = 1, 60.0, Counter({"bob": 1})
    state.outside = [OutsideProcess(4242, "carol", "GPU-0", "0", 1 << 30, None, "python3")]
    state.pending_corrections = 1
    return state


def emitted_names():
    tally = eventlog.Tally()
    tally.add([eventlog.Event("t", "a", "lifecycle.retire", {"reason": "idle"}),
               eventlog.Event("t", "a", "gpu.adopt", {"by": "reconcile"})])
    text = exporter.exposition(exporter.Collector(full_snapshot, lambda: tally))
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def dashboard_queries(document):
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def test_shipped_alert_rules_pass_promtool_check_rules():
    result = subprocess.run([need_tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_alert_rules_pass_their_promtool_unit_tests():
    result = subprocess.run([need_tool("promtool"), "test", "rules", RULE_TESTS.name], cwd=MONITORING,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_the_rules_cover_idle_gpus_the_queue_corrections_and_a_down_exporter():
    import yaml

    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    assert {"DS01GpuHeldByIdleContainer", "DS01GpuQueueWaiting", "DS01LedgerCorrections", "DS01ExporterDown"} <= names
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == names, "every shipped alert has a promtool test case"
    emitted = emitted_names()
    for rule in rules:
        assert set(METRIC_RE.findall(rule["expr"])) <= emitted, rule["alert"]


def test_the_dashboard_is_a_valid_grafana_dashboard():
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"] and document["title"] and isinstance(document["schemaVersion"], int)
    assert [variable["name"] for variable in document["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    for panel in document["panels"]:
        assert panel["type"] in ("stat", "timeseries", "table")
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["datasource"]["uid"] == "${datasource}"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert panel["targets"] and len(ref_ids) == len(set(ref_ids))


def test_the_dashboard_shows_slots_per_gpu_and_user_queue_idle_containers_and_lifecycle_actions():
    queries = " ".join(expr for _title, expr in dashboard_queries(json.loads(DASHBOARD.read_text())))
    for needed in ("sum by (gpu, state) (ds01_gpu_slot_state)", "ds01_user_gpu_slots", "ds01_gpu_queue_length",
                   "ds01_container_idle_seconds", "ds01_lifecycle_actions_total"):
        assert needed in queries


@pytest.mark.parametrize("title,expr", list(dashboard_queries(json.loads(DASHBOARD.read_text()))))
def test_every_dashboard_query_names_a_metric_the_exporter_emits(title, expr):
    named = set(METRIC_RE.findall(expr))
    assert named or any(re.search(rf"\b{own}\b", expr) for own in PROMETHEUS_OWN), f"{title}: names no metric"
    missing = named - emitted_names()
    assert not missing, f"{title}: {sorted(missing)} are not emitted by ds01-exporter"
