"""The state-file primitive: no lost update under contention, nothing torn by SIGKILL,
group-writable files whatever the umask, and a word on stderr while waiting for the lock."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from ds01common import statefile
from ds01common.errors import LockTimeout, StateCorrupt
from helpers import ROOT

CHILD_PRELUDE = f"import sys; sys.path.insert(0, {str(ROOT / 'lib')!r})\nfrom ds01common import statefile\n"


def spawn(code, *args, stdin=None):
    return subprocess.Popen([sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(code), *map(str, args)],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_twenty_processes_updating_at_once_lose_no_update(tmp_path):
    path = tmp_path / "counter.json"
    increments = 10
    children = [spawn("""
        import sys
        state = statefile.StateFile(sys.argv[1])
        for _ in range(int(sys.argv[2])):
            with state.transaction() as data:
                data["count"] = data.get("count", 0) + 1
                data.setdefault("writers", []).append(sys.argv[3])
        """, path, increments, number) for number in range(20)]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    data = statefile.StateFile(path).read()
    assert data["count"] == 20 * increments
    assert len(data["writers"]) == 20 * increments
    assert data["schema_version"] == 1


def test_sigkill_in_the_middle_of_an_update_keeps_the_old_content_and_frees_the_lock(tmp_path):
    path = tmp_path / "ledger.json"
    state = statefile.StateFile(path)
    with state.transaction() as data:
        data["owner"] = "before"
    child = spawn("""
        import os, sys, time
        state = statefile.StateFile(sys.argv[1])
        def stall(*args):
            print("temp written", flush=True)
            time.sleep(60)
        os.replace = stall
        with state.transaction() as data:
            data["owner"] = "half-done"
        """, path)
    assert child.stdout.readline().strip() == "temp written"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert state.read()["owner"] == "before"
    started = time.monotonic()
    with state.transaction(timeout=5) as data:
        data["owner"] = "after"
    assert time.monotonic() - started < 5
    assert state.read()["owner"] == "after"


def test_files_are_group_writable_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        state = statefile.StateFile(tmp_path / "s.json")
        with state.transaction() as data:
            data["x"] = 1
    finally:
        os.umask(old)
    for name in ("s.json", "s.json.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o660, name


def test_a_blocked_command_says_it_is_waiting_for_the_lock(tmp_path):
    path = tmp_path / "busy.json"
    # The holder keeps the lock until the test has seen the waiter wait (not for a fixed time: a
    # waiter slow to start on a loaded machine would otherwise find the lock free and never wait).
    holder = spawn("""
        import select, sys
        with statefile.locked(sys.argv[1]):
            print("holding", flush=True)
            select.select([sys.stdin], [], [], 30)  # until the test closes stdin; 30 s bounds a failure
        """, path, stdin=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "holding"
    waiter = spawn("""
        import sys
        from ds01common import cli
        cli.setup_logging()
        with statefile.StateFile(sys.argv[1]).transaction() as data:
            data["done"] = True
        """, path)
    said = []
    for line in iter(waiter.stderr.readline, ""):  # blocks until the waiter says something, or ends
        said.append(line)
        if "waiting for lock" in line:
            break
    holder.stdin.close()
    _, err = waiter.communicate(timeout=30)
    holder.wait(timeout=10)
    assert waiter.returncode == 0, "".join(said) + err
    assert "waiting for lock" in "".join(said)
    assert statefile.StateFile(path).read()["done"] is True


def test_the_lock_is_never_skipped_on_timeout(tmp_path):
    path = tmp_path / "held.json"
    holder = spawn("""
        import sys, time
        with statefile.locked(sys.argv[1]):
            print("holding", flush=True)
            time.sleep(5)
        """, path)
    assert holder.stdout.readline().strip() == "holding"
    with pytest.raises(LockTimeout, match="gave up waiting"):
        with statefile.StateFile(path).transaction(timeout=0.5) as data:
            data["sneaked"] = True
    holder.kill()
    holder.wait()
    assert "sneaked" not in statefile.StateFile(path).read()


def test_an_exception_inside_a_transaction_leaves_the_file_unchanged(tmp_path):
    state = statefile.StateFile(tmp_path / "t.json")
    with state.transaction() as data:
        data["value"] = 1
    with pytest.raises(RuntimeError):
        with state.transaction() as data:
            data["value"] = 2
            raise RuntimeError("boom")
    assert state.read()["value"] == 1


def test_a_corrupt_file_is_kept_aside_and_the_transaction_starts_afresh(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{not json")
    state = statefile.StateFile(path)
    with pytest.raises(StateCorrupt):
        state.read(recover=False)
    with state.transaction() as data:
        assert data.get("_rebuilt") is True
        data["fresh"] = True
    assert state.read()["fresh"] is True
    assert list(tmp_path.glob("c.json.corrupt-*"))


def test_a_wrong_schema_version_is_not_silently_used(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('{"schema_version": 99}')
    with pytest.raises(StateCorrupt, match="schema_version"):
        statefile.StateFile(path).read(recover=False)


def test_unlocked_read_of_a_wrong_schema_version_is_recovered_as_empty(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text("[1]")
    document = statefile.StateFile(path, 1, lambda: {"items": {}})
    assert document.read() == {"items": {}, "schema_version": 1}
    with pytest.raises(StateCorrupt):
        document.read(recover=False)


def test_a_state_file_or_dir_closed_to_the_caller_is_one_clear_error(tmp_path, monkeypatch):
    from ds01common.errors import Ds01Error

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    real_open = statefile.os.open
    closed = str(tmp_path / "doc.json")
    monkeypatch.setattr(statefile.os, "open", lambda path, *rest, **kw: denied() if str(path) == closed
                        else real_open(path, *rest, **kw))
    with pytest.raises(Ds01Error, match="cannot read .*permission denied"):
        statefile.read(tmp_path / "doc.json")
    monkeypatch.setattr(statefile.os, "open", real_open)
    import tempfile  # statefile imports it when it writes

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(Ds01Error, match="cannot write in .*permission denied"):
        statefile.write(tmp_path / "doc.json", {})


def test_a_bad_lock_timeout_in_the_environment_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("DS01_LOCK_TIMEOUT", "abc")
    assert statefile._lock_timeout() == statefile.DEFAULT_LOCK_TIMEOUT


def test_a_state_dir_that_cannot_be_created_is_one_clear_error(tmp_path):
    from ds01common.errors import Ds01Error

    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(Ds01Error, match="cannot create the state dir"):
        with statefile.locked(blocker / "state" / "doc.json"):
            pass


def test_a_transaction_that_changes_nothing_leaves_the_file_as_it_was(tmp_path):
    state = statefile.StateFile(tmp_path / "ledger.json", empty=lambda: {"slots": {}})
    with state.transaction() as data:
        data["slots"]["0"] = {"user": "alice"}
    before = os.stat(state.path)
    with state.transaction() as data:
        assert data["slots"] == {"0": {"user": "alice"}}
    after = os.stat(state.path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with state.transaction() as data:
        data["slots"]["0"]["user"] = "bob"
    assert os.stat(state.path).st_ino != before.st_ino
    assert state.read()["slots"]["0"]["user"] == "bob"


def test_an_unchanged_file_is_still_rewritten_to_repair_its_mode_or_its_entries(tmp_path):
    state = statefile.StateFile(tmp_path / "ledger.json", empty=lambda: {"slots": {}})
    state.path.write_text('{"schema_version": 1, "slots": {"0": {"user": "alice"}, "1": "not a mapping"}}')
    state.path.chmod(0o600)
    with state.transaction():
        pass
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o660
    assert statefile.read(state.path)["slots"] == {"0": {"user": "alice"}}
    state.path.chmod(0o600)
    with state.transaction():
        pass
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o660
