"""Files made on a user's behalf: owned by that user when root makes them, never half-written."""

import os
import stat

import pytest
from ds01common import userfiles
from ds01common.errors import Ds01Error
from ds01common.identity import User

# A uid/gid no real account uses, so ownership can only come from give_to.
NOBODY_HERE = User("ghost", "ghost", 54321, 54322, "/nonexistent")
ROOT = User("root", "root", 0, 0, "/root")


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
