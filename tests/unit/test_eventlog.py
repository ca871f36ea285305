"""The event log as readers see it: rotated files, following across rotation, summaries, counters,
and ds01-events' --follow, --container and --summary on top of them."""

import argparse
import gzip
import io
import json
import os
from contextlib import redirect_stdout

from ds01common import events
from ds01common.commands import ds01_events
from ds01common.monitoring import eventlog
from helpers import run_command


def line(event, user="alice", when="2026-11-22T10:00:00Z", **details):
    return json.dumps({"time": when, "user": user, "event": event, "details": details}) + "\n"


def parsed(text):
    return events.parse_line(text)


def rotate(log_dir):
    """What logrotate does with `create` and `delaycompress`: shift, compress the older, rename current."""
    current = log_dir / "events.jsonl"
    first = log_dir / "events.jsonl.1"
    if first.exists():
        with open(first, "rb") as plain, gzip.open(log_dir / "events.jsonl.2.gz", "wb") as packed:
            packed.write(plain.read())
        first.unlink()
    os.rename(current, first)


def test_rotated_and_compressed_files_are_read_oldest_first(tmp_path):
    with gzip.open(tmp_path / "events.jsonl.2.gz", "wt") as handle:
        handle.write(line("a.oldest"))
    (tmp_path / "events.jsonl.1").write_text(line("b.older") + "not json\n")
    (tmp_path / "events.jsonl").write_text(line("c.current"))
    (tmp_path / "events.jsonl.bak").write_text(line("x.not_a_rotation"))
    assert [entry.event for entry in eventlog.read_all(tmp_path)] == ["a.oldest", "b.older", "c.current"]


def test_since_leaves_rotated_files_last_written_before_it_unopened(tmp_path):
    (tmp_path / "events.jsonl.1").write_text(line("old"))
    os.utime(tmp_path / "events.jsonl.1", (1_000_000, 1_000_000))
    (tmp_path / "events.jsonl").write_text(line("new"))
    assert [entry.event for entry in eventlog.read_all(tmp_path, since=2_000_000)] == ["new"]
    assert [entry.event for entry in eventlog.read_all(tmp_path)] == ["old", "new"]


def test_a_missing_log_dir_reads_as_no_events(tmp_path):
    assert eventlog.read_all(tmp_path / "nowhere") == []


def test_follower_sees_only_new_events_and_survives_a_rotation(tmp_path):
    events.record("before", "alice", log_dir=tmp_path)
    follower = eventlog.Follower(tmp_path / "events.jsonl")
    assert follower.poll() == []
    events.record("one", "alice", log_dir=tmp_path)
    assert [entry.event for entry in follower.poll()] == ["one"]
    events.record("two", "alice", log_dir=tmp_path)
    rotate(tmp_path)  # "two" now sits in events.jsonl.1, unread
    events.record("three", "bob", log_dir=tmp_path)  # a fresh events.jsonl
    assert [entry.event for entry in follower.poll()] == ["two", "three"]
    rotate(tmp_path)
    events.record("four", "bob", log_dir=tmp_path)
    assert [entry.event for entry in follower.poll()] == ["four"]
    follower.close()


def test_follower_waits_while_the_log_is_rotated_away_and_not_yet_recreated(tmp_path):
    events.record("one", "alice", log_dir=tmp_path)
    follower = eventlog.Follower(tmp_path / "events.jsonl", from_start=True)
    rotate(tmp_path)
    assert [entry.event for entry in follower.poll()] == ["one"]
    assert follower.poll() == []
    events.record("two", "alice", log_dir=tmp_path)
    assert [entry.event for entry in follower.poll()] == ["two"]


def test_follower_reads_a_truncated_file_again_from_its_start(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(line("one") + line("two"))
    follower = eventlog.Follower(path)
    path.write_text(line("three"))  # copytruncate, then a new line
    assert [entry.event for entry in follower.poll()] == ["three"]


def test_follower_keeps_a_torn_last_line_until_it_is_complete(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("")
    follower = eventlog.Follower(path)
    text = line("whole")
    with open(path, "a") as handle:
        handle.write(text[:10])
    assert follower.poll() == []
    with open(path, "a") as handle:
        handle.write(text[10:])
    assert [entry.event for entry in follower.poll()] == ["whole"]


def test_a_log_that_appears_later_is_followed_from_its_first_line(tmp_path):
    follower = eventlog.Follower(tmp_path / "events.jsonl")
    assert follower.poll() == []
    events.record("first", "alice", log_dir=tmp_path)
    assert [entry.event for entry in follower.poll()] == ["first"]


def test_summary_counts_by_event_by_user_and_both():
    entries = [parsed(line("gpu.allocate")), parsed(line("gpu.allocate", user="bob")),
               parsed(line("container.created", user="bob"))]
    summary = eventlog.Summary().add(entries).as_dict()
    assert summary["total"] == 3
    assert summary["by_event"] == {"container.created": 1, "gpu.allocate": 2}
    assert summary["by_user"] == {"alice": 1, "bob": 2}
    assert summary["by_user_event"]["bob"] == {"container.created": 1, "gpu.allocate": 1}


def test_container_filter_matches_the_name_and_the_docker_name():
    assert eventlog.matches_container(parsed(line("x", container="train._.1000")), "train")
    assert eventlog.matches_container(parsed(line("x", container="train")), "train")
    assert not eventlog.matches_container(parsed(line("x", container="training._.1000")), "train")
    assert not eventlog.matches_container(parsed(line("x")), "train")


def test_tally_counts_lifecycle_actions_by_reason_and_reconcile_corrections():
    tally = eventlog.Tally()
    tally.add(parsed(text) for text in (
        line("lifecycle.retire", reason="idle"), line("lifecycle.retire", reason="max_runtime"),
        line("lifecycle.idle_warning", reason="idle"), line("lifecycle.runtime_warning"),
        line("gpu.release", by="reconcile"), line("gpu.release", by="admin"), line("gpu.adopt", by="reconcile")))
    assert tally.lifecycle == {("retired", "idle"): 1, ("retired", "max_runtime"): 1, ("warned", "idle"): 1,
                               ("warned", "max_runtime"): 1}
    assert tally.corrections == {"dropped": 1, "adopted": 1}
    assert tally.events["gpu.release"] == 2


def test_live_tally_counts_rotated_files_once_and_then_only_new_lines(tmp_path):
    for _ in range(3):
        events.record("lifecycle.retire", "alice", log_dir=tmp_path, reason="idle")
    rotate(tmp_path)
    events.record("lifecycle.retire", "bob", log_dir=tmp_path, reason="idle")
    live = eventlog.LiveTally(tmp_path)
    assert live.update().lifecycle[("retired", "idle")] == 4
    assert live.update().lifecycle[("retired", "idle")] == 4
    events.record("lifecycle.retire", "bob", log_dir=tmp_path, reason="idle")
    rotate(tmp_path)
    events.record("lifecycle.retire", "bob", log_dir=tmp_path, reason="gpu_hold")
    tally = live.update()
    assert tally.lifecycle[("retired", "idle")] == 5 and tally.lifecycle[("retired", "gpu_hold")] == 1
    live.close()


def follow_args(**options):
    defaults = {"user": None, "container": None, "event": None, "limit": None, "json": True}
    return argparse.Namespace(**dict(defaults, **options))


def test_follow_prints_the_backlog_then_new_events_across_a_rotation(tmp_path):
    events.record("old", "alice", log_dir=tmp_path, container="a._.1000")
    writes = [lambda: events.record("new", "bob", log_dir=tmp_path, container="b._.1001"),
              lambda: rotate(tmp_path),
              lambda: events.record("after", "bob", log_dir=tmp_path, container="b._.1001")]
    naps = []

    def sleep(seconds):  # an injected clock: each nap lets "another command" write
        naps.append(seconds)
        if writes:
            writes.pop(0)()

    output = io.StringIO()
    with redirect_stdout(output):
        ds01_events.follow(follow_args(), tmp_path, None, sleep=sleep, keep_going=lambda: len(naps) < 5)
    printed = [json.loads(text)["event"] for text in output.getvalue().splitlines()]
    assert printed == ["old", "new", "after"]
    assert all(seconds <= 1 for seconds in naps)


def test_follow_applies_the_user_and_container_filters(tmp_path):
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        events.record("tick", "alice", log_dir=tmp_path, container="train._.1000")
        events.record("tick", "bob", log_dir=tmp_path, container="train._.1001")
        events.record("tick", "alice", log_dir=tmp_path, container="other._.1000")

    output = io.StringIO()
    with redirect_stdout(output):
        ds01_events.follow(follow_args(user="alice", container="train"), tmp_path, None, sleep=sleep,
                           keep_going=lambda: len(naps) < 2)
    printed = [json.loads(text) for text in output.getvalue().splitlines()]
    assert printed and all(entry["user"] == "alice" and entry["details"]["container"] == "train._.1000"
                           for entry in printed)


def test_ds01_events_summary_counts_over_since_and_reads_rotated_files(ds01_env):
    log_dir = ds01_env["log"]
    (log_dir / "events.jsonl.1").write_text(line("gpu.allocate", when="2099-01-01T00:00:00Z")
                                            + line("gpu.allocate", user="bob", when="2000-01-01T00:00:00Z"))
    (log_dir / "events.jsonl").write_text(line("container.created", user="bob", when="2099-01-01T00:00:00Z"))
    result = run_command("ds01-events", "--summary", "--since", "7d", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["by_event"] == {"container.created": 1, "gpu.allocate": 1}
    assert summary["by_user"] == {"alice": 1, "bob": 1}
    table = run_command("ds01-events", "--summary")
    assert "3 events" in table.stdout and "gpu.allocate" in table.stdout


def test_ds01_events_container_filter_on_the_command_line(ds01_env):
    (ds01_env["log"] / "events.jsonl").write_text(line("container.created", container="web")
                                                  + line("container.created", container="db._.1000"))
    result = run_command("ds01-events", "--container", "db", "--json")
    assert [entry["details"]["container"] for entry in json.loads(result.stdout)] == ["db._.1000"]


def test_follow_and_summary_together_is_a_usage_error(ds01_env):
    assert run_command("ds01-events", "--follow", "--summary").returncode == 2


def test_links_and_fifos_planted_under_log_names_are_not_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(line("leaked"))
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "events.jsonl").symlink_to("/dev/zero")  # reading it would never end
    (log_dir / "events.jsonl.1").symlink_to(secret)
    os.mkfifo(log_dir / "events.jsonl.2")  # reading it would block
    assert eventlog.read_all(log_dir) == []
    follower = eventlog.Follower(log_dir / "events.jsonl", from_start=True)
    assert follower.poll() == []
    live = eventlog.LiveTally(log_dir)
    assert live.update().events == {}
