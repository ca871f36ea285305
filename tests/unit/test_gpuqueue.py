"""The wait queue: priority then arrival, dead waiters dropped, cancel only your own."""

import subprocess
import sys
import time

import pytest
from ds01common import gpuqueue, inventory, policy
from ds01common.errors import NotFound, PermissionDenied
from ds01common.identity import User
from ds01common.records import Limits

ALICE = User("alice", "alice", 1000, 1000, "/home/alice")
BOB = User("bob", "bob", 1001, 1001, "/home/bob")


def join(state_dir, user, priority, container="c._.1", pid=None):
    limits = Limits(priority=priority, max_mig_instances=None, allow_full_gpu=True)
    return gpuqueue.join(state_dir, user, container, policy.Request(1), limits, pid=pid)


def test_waiters_are_served_by_priority_then_arrival(tmp_path):
    low = join(tmp_path, ALICE, 10, "low._.1")
    high = join(tmp_path, BOB, 60, "high._.2")
    low_later = join(tmp_path, BOB, 10, "later._.2")
    assert [entry.token for entry in gpuqueue.waiters(tmp_path)] == [high.token, low.token,
                                                                       low_later.token]
    everyone = gpuqueue.waiters(tmp_path)
    assert [entry.token for entry in gpuqueue.ahead_of(everyone, 10, low.arrival, low.token)] == [
        high.token]
    # A newcomer of priority 30 goes behind priority 60 but ahead of everyone at 10.
    assert len(gpuqueue.ahead_of(everyone, 30, time.time())) == 1


def test_dead_waiters_are_dropped(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    join(tmp_path, ALICE, 10, pid=child.pid)
    alive = join(tmp_path, BOB, 10)
    assert [entry.token for entry in gpuqueue.waiters(tmp_path)] == [alive.token]
    stored = gpuqueue.queue_file(tmp_path).read()["waiters"]
    assert list(stored) == [alive.token]  # joining pruned the dead one from the file too


def test_prune_removes_dead_waiters_from_the_file(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    join(tmp_path, ALICE, 10, pid=child.pid)
    assert gpuqueue.prune(tmp_path) == 1
    assert gpuqueue.queue_file(tmp_path).read()["waiters"] == {}


def test_a_user_cancels_their_own_entry_but_not_someone_elses(tmp_path):
    mine = join(tmp_path, ALICE, 10)
    theirs = join(tmp_path, BOB, 10)
    with pytest.raises(PermissionDenied):
        gpuqueue.cancel(tmp_path, ALICE, theirs.token)
    removed = gpuqueue.cancel(tmp_path, ALICE)
    assert [entry.token for entry in removed] == [mine.token]
    assert [entry.token for entry in gpuqueue.waiters(tmp_path)] == [theirs.token]
    with pytest.raises(NotFound):
        gpuqueue.cancel(tmp_path, ALICE)


def test_an_admin_may_cancel_anyones_entry_by_id(tmp_path):
    theirs = join(tmp_path, BOB, 10)
    assert gpuqueue.cancel(tmp_path, ALICE, theirs.token, is_admin=True)[0].user == "bob"


def test_serving_the_waiters_ahead_takes_only_what_they_can_use():
    slots = inventory.simulated([{"memory": "80g", "mig": ["1g.10gb", "1g.10gb"]}]).slots

    class State:
        def taken(self):
            return set()

    def holdings_for(user, taken):
        holdings = policy.Holdings()
        holdings.taken = set(taken)
        return holdings

    ahead = [gpuqueue.QueueEntry.from_json("t1", {"user": "a", "request": {"count": 1},
                                                  "limits": {"allow_full_gpu": False}}),
             gpuqueue.QueueEntry.from_json("t2", {"user": "b", "request": {"count": 1, "full_gpu": True},
                                                  "limits": {"allow_full_gpu": True}})]
    taken, served = gpuqueue.serve_ahead(ahead, State(), slots, policy.decide, policy.Request, holdings_for)
    assert served == 1 and len(taken) == 1  # the full-GPU waiter cannot be served here


def test_hand_edited_waiters_of_the_wrong_shape_are_skipped_not_a_crash(tmp_path):
    import json
    live = join(tmp_path, ALICE, 10, "ok._.1")
    path = tmp_path / gpuqueue.QUEUE_FILE
    document = json.loads(path.read_text())
    document["waiters"].update({"junk": "text", "num": 5, "bad": {"pid": 1, "priority": "high"}})
    path.write_text(json.dumps(document))
    assert [entry.token for entry in gpuqueue.waiters(tmp_path)] == [live.token]
    assert gpuqueue.prune(tmp_path) == 0


def test_the_listing_numbers_waiters_in_serving_order_with_short_names(tmp_path):
    join(tmp_path, ALICE, 10, "low._.1000")
    join(tmp_path, BOB, 60, "high._.1001")
    rows = gpuqueue.listing(tmp_path)
    assert [(row["position"], row["user"], row["container"], row["priority"]) for row in rows] == [
        (1, "bob", "high", 60), (2, "alice", "low", 10)]
    assert rows[0]["count"] == 1 and rows[0]["since"].endswith("Z")


def test_a_queue_file_written_before_the_typed_entries_loads_and_keeps_its_json_shape(tmp_path):
    import json
    import os

    from ds01common.ledger import process_start_time

    pid = os.getpid()
    stored = {"user": "alice", "login": "alice", "container": "old._.1000", "request": {"count": 2, "full_gpu": True},
              "limits": {"max_mig_instances": 3, "allow_full_gpu": True, "priority": 20}, "priority": 20,
              "arrival": 1_790_000_000.0, "pid": pid, "pid_start": process_start_time(pid)}
    (tmp_path / gpuqueue.QUEUE_FILE).write_text(json.dumps({"schema_version": 1, "waiters": {"old1": stored}}))
    (entry,) = gpuqueue.waiters(tmp_path)
    assert (entry.token, entry.user, entry.container, entry.count, entry.full_gpu, entry.priority, entry.arrival) == \
        ("old1", "alice", "old._.1000", 2, True, 20, 1_790_000_000.0)
    assert entry.stored_limits.max_mig_instances == 3 and entry.stored_limits.max_gpu_equivalents is None
    join(tmp_path, BOB, 10)  # a write rewrites every waiter
    assert json.loads((tmp_path / gpuqueue.QUEUE_FILE).read_text())["waiters"]["old1"] == stored


def test_a_joined_waiter_is_stored_with_the_documented_keys(tmp_path):
    entry = join(tmp_path, ALICE, 10, "w._.1000")
    stored = gpuqueue.queue_file(tmp_path).read()["waiters"][entry.token]
    assert sorted(stored) == ["arrival", "container", "limits", "login", "pid", "pid_start", "priority", "request",
                              "user"]
    assert stored["request"] == {"count": 1, "full_gpu": False} and sorted(stored["limits"]) == sorted(
        gpuqueue.QUOTA_KEYS)


def test_a_waiter_without_arrival_is_served_as_the_earliest_of_its_priority(tmp_path):
    import os

    from ds01common.ledger import process_start_time

    later = join(tmp_path, BOB, 10, "later._.1001")
    pid = os.getpid()
    with gpuqueue.queue_file(tmp_path).transaction() as data:
        data["waiters"]["handmade"] = {"user": "alice", "container": "h._.1000", "priority": 10,
                                       "pid": pid, "pid_start": process_start_time(pid)}
    assert [entry.token for entry in gpuqueue.waiters(tmp_path)] == ["handmade", later.token]
    assert gpuqueue.waiters(tmp_path)[0].arrival is None
