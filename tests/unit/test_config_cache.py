"""The parsed-config cache: used only when fresh and trusted, and never different from parsing."""

import json
import os
import shutil
from pathlib import Path

import pytest
from ds01common import access, backend, config_cache
from ds01common import config as config_module

ROOT = Path(__file__).resolve().parents[2]
HOUR_NS = 3600 * 1_000_000_000


def settled_config(tmp_path, text=None):
    """A copy of the shipped config whose last change lies an hour back (past the racy window)."""
    directory = tmp_path / "etc"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    path = directory / "resource-limits.yaml"
    if text is None:
        shutil.copyfile(ROOT / "config" / "resource-limits.yaml", path)
    else:
        path.write_text(text)
    return path


def write_cache(path):
    """Parse the config and store its cache as a run an hour later would."""
    info = os.stat(path)
    raw = config_module.load(path).raw
    assert config_cache.store(str(path), info, raw, now_ns=info.st_ctime_ns + HOUR_NS)
    return Path(config_cache.cache_path(str(path)))


def rewrite_cache(cache, **changes):
    """Change values inside a written cache, keeping it fresh: what a lookup then returns came
    from the cache, not from the YAML."""
    document = json.loads(cache.read_text())
    document["raw"].update(changes)
    cache.write_text(json.dumps(document))
    cache.chmod(0o644)


def owners_of(path):
    return (os.stat(path).st_uid,)


def test_a_cached_config_gives_exactly_what_parsing_gives(tmp_path):
    path = settled_config(tmp_path)
    parsed = config_module.load(path)
    write_cache(path)
    cached_raw = config_cache.lookup(str(path))
    assert cached_raw is not None
    cached = config_module.load(path)
    assert cached.raw == parsed.raw and cached.raw is not parsed.raw
    assert json.dumps(cached.raw, sort_keys=True) == json.dumps(parsed.raw, sort_keys=True)
    for user in ("alice", "nobody-in-particular"):
        assert cached.limits_for(user) == parsed.limits_for(user)
    assert cached.lifecycle == parsed.lifecycle and cached.default_image == parsed.default_image


def test_the_cache_is_read_instead_of_the_yaml_when_fresh(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    rewrite_cache(write_cache(path), admin_group="from-the-cache")
    assert config_module.load(path).admin_group == "from-the-cache"


def test_an_edited_config_makes_the_cache_stale(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    write_cache(path)
    path.write_text("admin_group: staff\n")  # the same size: only the times and ctime differ
    assert config_cache.lookup(str(path), owners_of(path)) is None
    assert config_module.load(path).admin_group == "staff"


def test_a_config_changed_moments_ago_is_not_cached(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    info = os.stat(path)
    assert not config_cache.store(str(path), info, {"admin_group": "wheel"}, now_ns=info.st_ctime_ns + 1000)
    assert not os.path.exists(config_cache.cache_path(str(path)))


def test_a_cache_owned_by_an_untrusted_user_is_ignored(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    cache = write_cache(path)
    owner = os.stat(cache).st_uid
    assert config_cache.lookup(str(path), (owner,)) is not None
    assert config_cache.lookup(str(path), (owner + 4242,)) is None


@pytest.mark.parametrize("where", ["cache file", "its directory"])
def test_a_group_writable_cache_or_directory_is_ignored(tmp_path, where):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    cache = write_cache(path)
    (cache if where == "cache file" else cache.parent).chmod(0o775)
    assert config_cache.lookup(str(path), owners_of(path)) is None


def test_a_cache_that_is_a_link_is_ignored(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    cache = write_cache(path)
    elsewhere = tmp_path / "planted.json"
    cache.rename(elsewhere)
    cache.symlink_to(elsewhere)
    assert config_cache.lookup(str(path), owners_of(path)) is None


def test_a_cache_of_another_config_file_is_ignored(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    cache = write_cache(path)
    twin = path.with_name("other.yaml")
    shutil.copy2(path, twin)
    shutil.copy2(cache, config_cache.cache_path(str(twin)))
    assert config_cache.lookup(str(twin), owners_of(path)) is None


def test_values_json_cannot_carry_exactly_are_never_cached(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    info = os.stat(path)
    later = info.st_ctime_ns + HOUR_NS
    assert not config_cache.store(str(path), info, {"user_overrides": {1: {}}}, now_ns=later)
    assert not config_cache.store(str(path), info, {"admin_group": ("a", "b")}, now_ns=later)
    assert config_cache.store(str(path), info, {"admin_group": "wheel", "x": [1, 2.5, True, None]}, now_ns=later)


def test_a_config_closed_to_users_keeps_its_cache_closed_too(tmp_path):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    path.chmod(0o640)
    info = os.stat(path)
    assert config_cache.store(str(path), info, {"admin_group": "wheel"}, now_ns=info.st_ctime_ns + HOUR_NS)
    cache = os.stat(config_cache.cache_path(str(path)))
    assert oct(cache.st_mode & 0o777) == oct(0o640) and cache.st_gid == info.st_gid


def test_locked_mode_is_read_from_a_fresh_cache_before_the_text(tmp_path):
    path = settled_config(tmp_path, "access: docker-group\n")
    cache = write_cache(path)
    assert access.configured_access(path) == "docker-group"
    rewrite_cache(cache, access="ds01-only")
    assert access.configured_access(path) == "ds01-only"


def test_locked_mode_falls_back_to_the_text_when_the_cache_is_stale(tmp_path):
    path = settled_config(tmp_path, "access: docker-group\n")
    write_cache(path)
    path.write_text("access: ds01-only\n")
    assert config_cache.lookup(str(path)) is None
    assert access.configured_access(path) == "ds01-only"


def test_a_cluster_section_is_seen_in_a_fresh_cache_and_in_the_text_without_one(tmp_path, monkeypatch):
    path = settled_config(tmp_path, "admin_group: wheel\n")
    monkeypatch.setenv("DS01_CONFIG", str(path))
    assert not backend.config_mentions_cluster()
    cache = write_cache(path)
    assert not backend.config_mentions_cluster()
    rewrite_cache(cache, cluster={"scheduler": "slurm"})
    assert backend.config_mentions_cluster()
    path.write_text("cluster: {scheduler: slurm}\n")  # stale cache: the text answers
    assert backend.config_mentions_cluster()
