"""Files made on a user's behalf: owned by that user when root makes them, never half-written."""

import os
import stat

import pytest
from ds01common import userfiles
from ds01common.errors import Ds01Error, PermissionDenied
from ds01common.identity import User

# A uid/gid no real account uses, so ownership can only come from give_to.
NOBODY_HERE = User("ghost", "ghost", 54321, 54322, "/nonexistent")
ROOT = User("root", "root", 0, 0, "/root")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="acting for another user needs root")


def test_write_text_writes_the_text_with_the_mode_and_leaves_no_temp_file(tmp_path):
    target = userfiles.write_text(tmp_path / "notes.txt", "hello\n", ROOT, mode=0o600)
    assert target.read_text() == "hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_write_text_replaces_an_existing_file_whole(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("old and much longer content\n")
    userfiles.write_text(target, "new\n", ROOT)
    assert target.read_text() == "new\n"


def test_a_file_written_for_another_user_is_theirs_when_root_writes_it(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    target = userfiles.write_text(tmp_path / "theirs.txt", "x", NOBODY_HERE)
    assert (target.stat().st_uid, target.stat().st_gid) == (NOBODY_HERE.uid, NOBODY_HERE.gid)


def test_an_unwritable_place_is_one_clear_error_and_no_temp_file(tmp_path):
    missing_dir = tmp_path / "no-such-dir" / "file.txt"
    with pytest.raises(Ds01Error, match="cannot write .*file.txt"):
        userfiles.write_text(missing_dir, "x", ROOT)
    assert list(tmp_path.iterdir()) == []


def test_make_directory_returns_the_directories_it_made_outermost_first(tmp_path):
    made = userfiles.make_directory(tmp_path / "a" / "b" / "c", ROOT)
    assert made == [tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"]
    assert (tmp_path / "a" / "b" / "c").is_dir()


def test_make_directory_on_an_existing_directory_makes_nothing(tmp_path):
    (tmp_path / "there").mkdir()
    assert userfiles.make_directory(tmp_path / "there", ROOT) == []


def test_every_directory_made_for_another_user_is_theirs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    userfiles.make_directory(tmp_path / "a" / "b", NOBODY_HERE)
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert directory.stat().st_uid == NOBODY_HERE.uid
    assert tmp_path.stat().st_uid != NOBODY_HERE.uid  # what existed before is left alone


def test_a_file_in_the_way_of_a_directory_is_refused(tmp_path):
    (tmp_path / "plain").write_text("not a dir")
    with pytest.raises(Ds01Error, match="not a directory"):
        userfiles.make_directory(tmp_path / "plain", ROOT)


def _planted_link(link, target, owner):
    link.symlink_to(target)
    os.lchown(link, owner.uid, owner.gid)
    return link


def _victim_and_workspace(tmp_path, name, text):
    """A root's file holding `text`, for a planted link to point at, and an empty workspace."""
    victim = tmp_path / name
    victim.write_text(text)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return victim, workspace


@root_only
def test_root_acting_for_a_user_never_writes_through_a_directory_link_they_own(tmp_path):
    outside = tmp_path / "etc"
    outside.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    _planted_link(home / "workspace", outside, NOBODY_HERE)
    with pytest.raises(PermissionDenied, match="symlink owned by ghost"):
        userfiles.write_text(home / "workspace" / "README.md", "x", NOBODY_HERE)
    with pytest.raises(PermissionDenied):
        userfiles.make_directory(home / "workspace" / "proj", NOBODY_HERE)
    assert list(outside.iterdir()) == []


@root_only
def test_a_planted_temp_file_link_is_replaced_not_written_through(tmp_path):
    victim, workspace = _victim_and_workspace(tmp_path, "victim", "precious\n")
    (workspace / ".README.md.ds01-tmp").symlink_to(victim)  # root-owned: not refused, but not followed
    userfiles.write_text(workspace / "README.md", "readme\n", NOBODY_HERE)
    assert victim.read_text() == "precious\n"
    assert (workspace / "README.md").read_text() == "readme\n"


@root_only
def test_appending_an_alert_never_follows_a_link_and_the_new_file_is_the_users(tmp_path):
    victim, workspace = _victim_and_workspace(tmp_path, "passwd", "root:x:0:0\n")
    _planted_link(workspace / ".ds01-alerts", victim, NOBODY_HERE)
    with pytest.raises(PermissionDenied):
        userfiles.append_line(workspace / ".ds01-alerts", "idle for 1h", NOBODY_HERE)
    assert victim.read_text() == "root:x:0:0\n"
    (workspace / ".ds01-alerts").unlink()
    userfiles.append_line(workspace / ".ds01-alerts", "idle for 1h", NOBODY_HERE)
    userfiles.append_line(workspace / ".ds01-alerts", "idle for 2h", NOBODY_HERE)
    alerts = workspace / ".ds01-alerts"
    assert alerts.read_text() == "idle for 1h\nidle for 2h\n"
    assert alerts.stat().st_uid == NOBODY_HERE.uid


@root_only
def test_giving_a_link_to_a_user_never_changes_its_targets_owner(tmp_path):
    victim = tmp_path / "shadow"
    victim.write_text("secret")
    link = tmp_path / "link"
    link.symlink_to(victim)
    userfiles.give_to(link, NOBODY_HERE)
    assert victim.stat().st_uid == 0
    assert os.lstat(link).st_uid == NOBODY_HERE.uid
