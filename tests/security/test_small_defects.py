"""The smaller defects the attack pass found: NaN/Infinity and zero-means-unlimited in the
config, names with a trailing newline, a full or read-only state dir, orphan temp files."""

import errno
import json
import os
import shutil
import time

import pytest
import yaml
from attack_site import IMAGE, base_config, containers_of, ds01, one_line
from ds01common import config as config_module
from ds01common import names, statefile
from ds01common.errors import ConfigError, Ds01Error


@pytest.mark.parametrize("key, value", [
    ("max_cpus", float("nan")), ("max_cpus", float("inf")), ("memory", float("inf")), ("idle_timeout", float("inf")),
    ("idle_timeout", float("nan")), ("max_gpu_equivalents", float("nan")), ("memory", 0), ("memory", "0g"),
    ("pids_limit", 0), ("shm_size", "0")])
def test_config_values_that_are_not_numbers_or_silently_unlimited_are_refused(tmp_path, key, value):
    document = base_config()
    document["defaults"] = dict(document["defaults"], **{key: value})
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=f"defaults.{key}"):
        config_module.load(path)


def test_yaml_infinity_and_nan_literals_are_refused_too(tmp_path):
    path = tmp_path / "limits.yaml"
    text = yaml.safe_dump(base_config()).replace("max_cpus: 1", "max_cpus: .inf")
    path.write_text(text)
    with pytest.raises(ConfigError, match="max_cpus"):
        config_module.load(path)


@pytest.mark.parametrize("name", ["demo\n", "demo\n\n", "a" * 41, "-demo", "demo/x"])
def test_names_are_matched_in_full(name):
    with pytest.raises(Ds01Error, match="invalid"):
        names.validate_name(name)


def test_a_name_with_a_trailing_newline_is_refused_by_the_installed_command(site):
    result = ds01(site, "mallory", "container-create", "demo\n", "--cpu-only", "--image", IMAGE)
    assert result.returncode == 1 and "invalid container name" in result.stderr
    assert containers_of(site, "mallory") == []


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"),
                                         (errno.EROFS, "it is on a read-only file system")])
def test_a_full_or_read_only_state_dir_is_one_line_naming_the_directory(tmp_path, monkeypatch, code, words):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    import tempfile  # statefile imports it when it writes

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(Ds01Error, match=f"cannot write in {tmp_path}: {words}"):
        statefile.write(tmp_path / "gpu-state.json", {"schema_version": 1})


def test_a_state_dir_the_user_cannot_write_is_one_line_exit_1_naming_it(site):
    state = site["state"]
    mode = os.stat(state).st_mode
    for entry in state.iterdir():
        if entry.name.startswith("gpu-state.json"):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    os.chmod(state, 0o555)
    try:
        result = ds01(site, "mallory", "container-create", "blocked", "--cpu-only", "--image", IMAGE)
        assert result.returncode == 1
        assert str(state) in one_line(result) and "unexpected" not in result.stderr
    finally:
        os.chmod(state, mode)
    assert containers_of(site, "mallory") == []


def test_orphan_temp_files_of_a_killed_writer_are_cleaned_up_under_the_lock(tmp_path):
    document = statefile.StateFile(tmp_path / "gpu-state.json")
    old = tmp_path / ".gpu-state.json.abc123.tmp"
    fresh = tmp_path / ".gpu-state.json.def456.tmp"
    for path in (old, fresh):
        path.write_text("{half")
    past = time.time() - 3600
    os.utime(old, (past, past))
    with document.transaction() as data:
        data["x"] = 1
    assert not old.exists() and fresh.exists()
    assert json.loads((tmp_path / "gpu-state.json").read_text())["x"] == 1
