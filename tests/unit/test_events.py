"""The event log: one JSON line per event, readable back, never fatal."""

import json
import stat

from ds01common import events


def test_an_event_is_one_json_line_with_time_user_event_and_details(tmp_path):
    events.record("gpu.allocated", "alice", log_dir=tmp_path, slot="1:0", weight=0.428)
    (line,) = (tmp_path / "events.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert entry["user"] == "alice" and entry["event"] == "gpu.allocated"
    assert entry["details"] == {"slot": "1:0", "weight": 0.428}
    assert entry["time"].endswith("Z")


def test_events_read_back_in_order_skipping_garbage(tmp_path):
    events.record("a", "u", log_dir=tmp_path)
    with open(tmp_path / "events.jsonl", "a") as handle:
        handle.write("not json\n")
    events.record("b", "u", log_dir=tmp_path)
    assert [entry.event for entry in events.read(tmp_path)] == ["a", "b"]


def test_the_event_log_is_group_writable(tmp_path):
    events.record("a", "u", log_dir=tmp_path)
    assert stat.S_IMODE((tmp_path / "events.jsonl").stat().st_mode) == 0o660


def test_an_unwritable_log_is_a_warning_not_a_failure(tmp_path, caplog):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    entry = events.record("a", "u", log_dir=blocker)
    assert entry.event == "a"


def test_hand_written_lines_of_the_wrong_shape_or_bytes_are_skipped(tmp_path):
    good = events.record("container.created", "alice", log_dir=tmp_path, container="x")
    with open(tmp_path / events.EVENTS_FILE, "ab") as handle:
        handle.write(b'5\n[1]\n{}\n\xff\xfe\n{"time": 3, "event": 7, "details": {}}\n'
                     b'{"time": "t", "event": "e", "details": "z"}\n')
    assert events.read(tmp_path) == [good]


def test_an_unreadable_event_log_is_permission_denied(tmp_path, monkeypatch):
    import builtins

    import pytest
    from ds01common.errors import PermissionDenied

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    events.record("container.created", "alice", log_dir=tmp_path)
    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(PermissionDenied):
        events.read(tmp_path)


def test_an_event_given_no_log_dir_is_written_nowhere_not_to_the_environments(tmp_path, monkeypatch):
    monkeypatch.setenv("DS01_LOG_DIR", str(tmp_path))
    entry = events.record("container.created", "alice", None, container="x")
    assert entry.event == "container.created" and entry.details == {"container": "x"}
    assert list(tmp_path.iterdir()) == []


def test_an_event_reads_back_as_the_record_that_was_written(tmp_path):
    written = events.record("gpu.allocate", "alice", tmp_path, slots=["1:0"], weight=0.25)
    (read,) = events.read(tmp_path)
    assert read == written and read.to_json() == json.loads((tmp_path / events.EVENTS_FILE).read_text())


def test_a_line_without_a_user_reads_as_an_event_of_nobody(tmp_path):
    (tmp_path / events.EVENTS_FILE).write_text('{"time": "2026-11-22T10:00:00Z", "event": "x", "details": {}}\n')
    assert events.read(tmp_path) == [events.Event("2026-11-22T10:00:00Z", None, "x", {})]
