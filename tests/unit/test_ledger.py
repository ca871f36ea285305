"""The ledger protocol against a fake Docker: labels are the truth, dead reservations go,
a missing or corrupt ledger is rebuilt with a warning, a contested slot keeps one holder."""

import json
import logging
import os
import subprocess
import sys
import time

from ds01common import ledger
from fakes.engine import FakeEngine, ds01_labels


def reserve(state_dir, docker, slots, container="new._.1000", pid=None, start=None, at=None, user="alice"):
    with ledger.transaction(docker, state_dir, log_dir=state_dir) as state:
        pid = os.getpid() if pid is None else pid
        state.reservations["t-" + container] = ledger.SlotReservation(
            user, container, slots, {}, pid, ledger.process_start_time(pid) if start is None else start,
            time.time() if at is None else at)


def ledger_json(state_dir):
    return json.loads((state_dir / ledger.LEDGER_FILE).read_text())


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_labelled_container_missing_from_the_ledger_is_adopted(tmp_path):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "1:0", "MIG-x"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments["1:0"].container == "a._.1000"
        assert state.assignments["1:0"].user == "alice"
    assert "1:0" in ledger_json(tmp_path)["assignments"]


def test_entry_whose_container_was_removed_behind_ds01s_back_is_dropped(tmp_path):
    docker = FakeEngine()
    container = docker.containers.add("a._.1000", ds01_labels("alice", "0,1", "GPU-a,GPU-b"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path):
        pass
    container.remove(force=True)
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments == {}
        assert sorted(change[1] for change in state.changes if change[0] == "dropped") == ["0", "1"]


def test_stopped_containers_keep_their_slots(tmp_path):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "2"), status="exited")
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert "2" in state.taken()


def test_reservation_of_a_dead_process_is_dropped(tmp_path):
    docker = FakeEngine()
    reserve(tmp_path, docker, ["3"], pid=dead_pid(), start="1")
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.reservations == {} and "3" not in state.taken()


def test_reservation_of_a_live_process_is_kept(tmp_path):
    docker = FakeEngine()
    reserve(tmp_path, docker, ["3"])
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert "3" in state.taken()


def test_reused_pid_is_not_mistaken_for_the_reserving_process(tmp_path):
    docker = FakeEngine()
    reserve(tmp_path, docker, ["3"], pid=os.getpid(), start="12345")  # our pid, another start time
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.reservations == {}


def test_another_users_process_counts_as_alive(monkeypatch):
    def refuse(pid, signal):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "kill", refuse)
    assert ledger.process_alive(424242, None)


def test_reservation_older_than_the_timeout_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("DS01_RESERVATION_TIMEOUT", "30")
    docker = FakeEngine()
    reserve(tmp_path, docker, ["3"], at=time.time() - 31)
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.reservations == {}


def test_container_labelled_with_a_slot_someone_holds_does_not_get_it(tmp_path, caplog):
    docker = FakeEngine()
    docker.containers.add("first._.1000", ds01_labels("alice", "0"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path):
        pass
    docker.containers.add("second._.1001", ds01_labels("bob", "0"))
    with caplog.at_level(logging.WARNING, logger="ds01"), \
            ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments["0"].container == "first._.1000"
        assert state.conflicts == [("0", "second._.1001", "first._.1000")]
    assert "second._.1001" in caplog.text


def test_container_labelled_with_a_slot_another_live_create_reserved_does_not_get_it(tmp_path):
    docker = FakeEngine()
    reserve(tmp_path, docker, ["0"], container="reserver._.1000")
    docker.containers.add("intruder._.1001", ds01_labels("bob", "0"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert "0" not in state.assignments
        assert state.conflicts[0][1] == "intruder._.1001"


def test_corrupt_ledger_is_rebuilt_from_labels_with_a_warning(tmp_path, caplog):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "1"))
    (tmp_path / ledger.LEDGER_FILE).write_text("{ not json")
    with caplog.at_level(logging.WARNING, logger="ds01"), \
            ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments["1"].container == "a._.1000"
    assert "corrupt" in caplog.text or "not valid JSON" in caplog.text
    assert "rebuilt" in caplog.text


def test_missing_ledger_is_rebuilt_from_labels_with_a_warning(tmp_path, caplog):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "1,2"))
    with caplog.at_level(logging.WARNING, logger="ds01"), \
            ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert sorted(state.assignments) == ["1", "2"]
    assert "rebuilt it from Docker labels (2 slot(s) adopted)" in caplog.text


def test_ledger_of_the_wrong_shape_is_repaired(tmp_path):
    docker = FakeEngine()
    (tmp_path / ledger.LEDGER_FILE).write_text(json.dumps({"schema_version": 1, "assignments": []}))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments == {}


def test_user_containers_count_pending_creates_once(tmp_path):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", ""))
    reserve(tmp_path, docker, [], container="b._.1000")
    reserve(tmp_path, docker, [], container="a._.1000")
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.user_containers("alice") == {"a._.1000", "b._.1000"}
        assert state.user_containers("alice", excluding="b._.1000") == {"a._.1000"}


def test_reconcile_changes_are_recorded_as_events(tmp_path):
    docker = FakeEngine()
    container = docker.containers.add("a._.1000", ds01_labels("alice", "0"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path):
        pass
    container.remove(force=True)
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path):
        pass
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [(line["event"], line["details"]["slots"]) for line in lines] == [("gpu.adopt", ["0"]),
                                                                            ("gpu.release", ["0"])]


def test_an_assignment_confirmed_after_the_listing_started_survives_that_listing():
    data = ledger.LedgerDocument(assignments={"0": ledger.Assignment("", "new._.1", "", confirmed=150.0),
                                              "1": ledger.Assignment("", "old._.1", "", confirmed=50.0)})
    ledger.reconcile(data, [], listed_at=100.0, now=151.0)
    assert list(data.assignments) == ["0"]


def test_a_dead_creators_container_is_adopted_from_a_listing_retaken_under_the_lock(tmp_path):
    docker = FakeEngine()
    reserve(tmp_path, docker, ["0"], container="orphan._.1000", pid=dead_pid(), start="1")
    docker.containers.add("orphan._.1000", ds01_labels("alice", "0"))
    real_list = docker.containers.list
    calls = []

    def listing_that_predates_the_container(**kwargs):
        calls.append(kwargs)
        return [] if len(calls) == 1 else real_list(**kwargs)

    docker.containers.list = listing_that_predates_the_container
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert state.assignments["0"].container == "orphan._.1000"
    assert len(calls) == 2


def test_confirmed_creates_count_for_their_user_against_an_older_listing(tmp_path):
    docker = FakeEngine()
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        state.remember_confirmed("fresh._.1000", "alice")
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        state.listed_at -= 5  # as if our listing had started before that confirm
        assert state.user_containers("alice") == {"fresh._.1000"}


def test_hand_edited_entries_of_the_wrong_shape_are_dropped_and_labels_readopted(tmp_path):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "1:0", "MIG-x"))
    (tmp_path / ledger.LEDGER_FILE).write_text(json.dumps({
        "schema_version": 1, "assignments": {"1:0": "garbage", "1:1": {"confirmed": "soon"}},
        "reservations": {"x": "y", "z": {"slots": "1:2"}, "w": {"slots": [], "weights": 5}},
        "revoked": {"c": 3}, "recent": {"n": []}}))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path) as state:
        assert list(state.assignments) == ["1:0"]
        assert state.assignments["1:0"].container == "a._.1000"
        assert state.reservations == {}


# A ledger as DS01 wrote it before its entries were typed records (an assignment confirmed by a
# create, one adopted by an older DS01 without `confirmed`, a reservation without `since`).
OLD_LEDGER = {
    "schema_version": 1,
    "assignments": {
        "1:0": {"user": "alice", "container": "a._.1000", "container_id": "id-a", "weight": 0.25,
                "since": "2026-11-20T10:00:00Z", "confirmed": 1_790_000_000.0},
        "1:1": {"user": "alice", "container": "a._.1000", "container_id": "id-a", "weight": 0.25,
                "since": "2026-11-20T10:00:00Z"},
    },
    "reservations": {"tok": {"user": "bob", "container": "b._.1001", "slots": ["1:2"], "weights": {"1:2": 0.25},
                             "pid": os.getpid(), "pid_start": None, "time": 1_790_000_000.0}},
    "revoked": {"id-a": {"slots": ["1:3"], "time": 1_790_000_000.0}},
    "recent": {"a._.1000": {"user": "alice", "time": 1_790_000_000.0}},
}


def test_a_ledger_written_before_the_typed_records_loads_with_every_entry(tmp_path):
    (tmp_path / ledger.LEDGER_FILE).write_text(json.dumps(OLD_LEDGER))
    data = ledger.read_state(tmp_path)
    assert data.assignments["1:0"] == ledger.Assignment("alice", "a._.1000", "id-a", 0.25,
                                                        "2026-11-20T10:00:00Z", 1_790_000_000.0)
    assert data.assignments["1:1"].confirmed == 0.0  # absent: never confirmed after any listing
    assert data.reservations["tok"] == ledger.SlotReservation("bob", "b._.1001", ["1:2"], {"1:2": 0.25},
                                                              os.getpid(), None, 1_790_000_000.0, None)
    assert data.revoked_slots("id-a") == ["1:3"] and data.recent["a._.1000"].user == "alice"


def test_a_transaction_writes_an_old_ledger_back_in_the_same_json_shape(tmp_path):
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "1:0,1:1"))
    (tmp_path / ledger.LEDGER_FILE).write_text(json.dumps(OLD_LEDGER))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path, reconciled=False):
        pass
    written = ledger_json(tmp_path)
    assert written["assignments"]["1:0"] == OLD_LEDGER["assignments"]["1:0"]
    assert written["assignments"]["1:1"] == dict(OLD_LEDGER["assignments"]["1:1"], confirmed=0.0)
    assert written["reservations"]["tok"] == dict(OLD_LEDGER["reservations"]["tok"], since=None)
    assert written["revoked"] == OLD_LEDGER["revoked"] and written["recent"] == OLD_LEDGER["recent"]
    assert written["schema_version"] == 1


def test_reconcile_works_on_records_and_adopts_with_the_slot_weight_and_listing_time():
    data = ledger.LedgerDocument()
    container = ledger.ContainerInfo("a._.1000", "id-a", "alice", ["1:0"], "running", "2026-11-20T10:00:00Z")
    changes, conflicts = ledger.reconcile(data, [container], {"1:0": 0.25}, now=200.0, listed_at=190.0)
    assert data.assignments == {"1:0": ledger.Assignment("alice", "a._.1000", "id-a", 0.25,
                                                         "2026-11-20T10:00:00Z", 190.0)}
    assert changes == [("adopted", "1:0", "a._.1000", "labelled container", "alice")] and conflicts == []


def test_the_ledger_transaction_takes_its_log_dir_from_the_caller_not_the_environment(tmp_path, monkeypatch):
    elsewhere = tmp_path / "env-log"
    monkeypatch.setenv("DS01_LOG_DIR", str(elsewhere))
    docker = FakeEngine()
    docker.containers.add("a._.1000", ds01_labels("alice", "0"))
    with ledger.transaction(docker, tmp_path, log_dir=tmp_path / "mine"):
        pass
    assert (tmp_path / "mine" / "events.jsonl").exists() and not elsewhere.exists()
