"""A user's limits as the contract's JSON, as readable text, and as ~/.ds01-limits kept current."""

import logging
import os

import yaml
from ds01common import config as config_module
from ds01common import limits
from ds01common.config import LIMIT_KEYS
from ds01common.identity import User


def resolved(tmp_path, overrides=None):
    document = {"default_group": "student", "groups": {"student": {"members": []}},
                "defaults": {"memory": "2g", "idle_timeout": "90m", "max_containers_per_user": None,
                             "allow_full_gpu": False},
                "user_overrides": {"alice": dict({"reason": "thesis deadline"}, **(overrides or {}))}}
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document))
    return config_module.load(path).limits_for("alice")


def alice(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return User("alice", "alice", 1000, 1000, str(home))


def test_json_has_every_limit_key_plus_group_and_reason(tmp_path):
    document = limits.as_json(resolved(tmp_path))
    assert set(document) == set(LIMIT_KEYS) | {"group", "reason"}
    assert document["memory"] == 2 * 1024 ** 3 and document["idle_timeout"] == 90 * 60
    assert document["max_containers_per_user"] is None
    assert (document["group"], document["reason"]) == ("student", "thesis deadline")


def test_values_read_as_a_person_would_write_them():
    assert limits.display_value("memory", 2 * 1024 ** 3) == "2g"
    assert limits.display_value("idle_timeout", 90 * 60) == "1h30m"
    assert limits.display_value("max_containers_per_user", None) == "unlimited"
    assert limits.display_value("allow_full_gpu", False) == "no"
    assert limits.display_value("allow_full_gpu", True) == "yes"
    assert limits.display_value("pids_limit", 256) == "256"


def test_the_text_names_the_override_and_has_one_human_line_per_limit(tmp_path):
    text = limits.as_text("alice", resolved(tmp_path))
    lines = text.splitlines()
    assert lines[0].startswith("# DS01 limits for alice")
    assert lines[1:3] == ["Group: student", "Override: thesis deadline"]
    assert len(lines) == 3 + len(LIMIT_KEYS)
    assert "Max Containers: unlimited" in lines and "GPU slots: 1" in lines and "Idle timeout: 1h30m" in lines
    assert "Max runtime: unlimited" in lines  # the built-in default: no runtime limit
    assert limits.parse_text(text)["Memory per container"] == "2g"


def test_the_limits_file_is_written_and_rewritten_only_when_it_changes(tmp_path):
    user = alice(tmp_path)
    path = limits.write_limits_file(user, resolved(tmp_path))
    assert path.read_text() == limits.as_text("alice", resolved(tmp_path))
    first = path.stat().st_ino
    os.utime(path, (1, 1))
    limits.write_limits_file(user, resolved(tmp_path))
    assert path.stat().st_ino == first  # unchanged content: not replaced, only touched
    assert path.stat().st_mtime > 1
    limits.write_limits_file(user, resolved(tmp_path, {"pids_limit": 999}))
    assert "999" in path.read_text() and path.stat().st_ino != first
    assert [item.name for item in path.parent.iterdir()] == [".ds01-limits"]  # no temp file left


def test_an_unwritable_home_is_only_a_warning(tmp_path, caplog):
    user = User("alice", "alice", 1000, 1000, str(tmp_path / "no-such-home"))
    with caplog.at_level(logging.WARNING, logger="ds01"):
        assert limits.write_limits_file(user, resolved(tmp_path)) is None
    assert "could not update" in caplog.text
