"""Config: layering (defaults <- group <- override), per-key parsing and all-at-once validation."""

import pytest
import yaml
from ds01common import config as config_module
from ds01common.config import BUILTIN_DEFAULTS, LIMIT_KEYS
from ds01common.errors import ConfigError

LAYERED = {
    "default_group": "student",
    "defaults": {"max_mig_instances": 1, "memory": "16g", "idle_timeout": "2h", "priority": 10},
    "groups": {
        "student": {"members": ["sam"], "max_mig_instances": 1, "allow_full_gpu": False},
        "researcher": {"members": ["alice", "dana"], "max_mig_instances": 2, "memory": "64g", "priority": 30},
        "faculty": {"members": ["dana", "carol"], "max_mig_instances": 4, "allow_full_gpu": True},
    },
    "user_overrides": {"alice": {"max_mig_instances": 3, "reason": "deadline"}},
}


def load(tmp_path, document):
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return config_module.load(path)


def test_a_user_in_two_groups_gets_the_first_in_file_order(tmp_path):
    config = load(tmp_path, LAYERED)
    limits = config.limits_for("dana")
    assert limits.group == "researcher"
    assert limits.max_mig_instances == 2
    assert limits.allow_full_gpu is False


def test_an_override_replaces_only_its_own_keys(tmp_path):
    limits = load(tmp_path, LAYERED).limits_for("alice")
    assert limits.max_mig_instances == 3
    assert limits.memory == 64 * 1024 ** 3        # still the group's
    assert limits.priority == 30                   # still the group's
    assert limits.idle_timeout == 7200             # still the defaults'
    assert limits.group == "researcher"            # an override does not change the group
    assert limits.reason == "deadline"


def test_an_unknown_user_gets_the_default_group(tmp_path):
    limits = load(tmp_path, LAYERED).limits_for("nobody-listed")
    assert limits.group == "student"
    assert limits.memory == 16 * 1024 ** 3
    assert limits.reason is None


def test_keys_missing_from_every_layer_fall_back_to_builtin_defaults(tmp_path):
    limits = load(tmp_path, {"default_group": "g", "groups": {"g": {}}}).limits_for("x")
    assert set(LIMIT_KEYS) <= set(limits.as_dict())
    assert limits.max_containers_per_user == BUILTIN_DEFAULTS["max_containers_per_user"]


def test_null_means_unlimited(tmp_path):
    document = {"defaults": {"max_mig_instances": None, "max_runtime": None, "memory": None}}
    limits = load(tmp_path, document).limits_for("x")
    assert limits.max_mig_instances is None and limits.max_runtime is None and limits.memory is None


GOOD_VALUES = {
    "max_mig_instances": (3, 3), "max_gpus_per_container": (2, 2), "max_gpu_equivalents": (1.5, 1.5),
    "allow_full_gpu": (True, True), "max_cpus": (4, 4), "memory": ("8g", 8 * 1024 ** 3),
    "shm_size": ("512m", 512 * 1024 ** 2), "pids_limit": (100, 100), "max_containers_per_user": (2, 2),
    "idle_timeout": ("30m", 1800), "max_runtime": (24, 86400), "gpu_hold_after_stop": ("45s", 45),
    "priority": (50, 50),
}
BAD_VALUES = {
    "max_mig_instances": -1, "max_gpus_per_container": "two", "max_gpu_equivalents": 0,
    "allow_full_gpu": "yes", "max_cpus": -2, "memory": "32x", "shm_size": "big", "pids_limit": 1.5,
    "max_containers_per_user": True, "idle_timeout": "soon", "max_runtime": "10y",
    "gpu_hold_after_stop": [], "priority": 101,
}


def test_every_limit_key_has_a_good_and_a_bad_example():
    assert set(GOOD_VALUES) == set(LIMIT_KEYS) == set(BAD_VALUES)


@pytest.mark.parametrize("key", LIMIT_KEYS)
def test_each_limit_key_parses_its_value(tmp_path, key):
    raw, parsed = GOOD_VALUES[key]
    assert load(tmp_path, {"defaults": {key: raw}}).limits_for("x").value(key) == parsed


@pytest.mark.parametrize("key", LIMIT_KEYS)
def test_each_limit_key_refuses_a_bad_value_naming_file_and_key(tmp_path, key):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"groups": {"g": {key: BAD_VALUES[key]}}})
    (problem,) = caught.value.problems
    assert str(tmp_path / "limits.yaml") in problem
    assert f"groups.g.{key}:" in problem


@pytest.mark.parametrize("document, keypath", [
    ({"default_group": 5}, "default_group"),
    ({"default_group": "ghost", "groups": {"g": {}}}, "default_group"),
    ({"admin_group": ""}, "admin_group"),
    ({"workspace_root": ["x"]}, "workspace_root"),
    ({"groups": {"g": {"members": "alice"}}}, "groups.g.members"),
    ({"user_overrides": {"u": {"reason": 3}}}, "user_overrides.u.reason"),
    ({"user_overrides": {"u": {"members": ["x"]}}}, "user_overrides.u.members"),
    ({"gpus": {"simulate": [{"model": "A100", "memory": "80x"}]}}, "gpus.simulate[0].memory"),
    ({"gpus": {"simulate": [{"mig": ["9g.99gb"]}]}}, "gpus.simulate[0].mig[0]"),
    ({"gpus": {"simulate": [{"mig": ["7g.80gb", "1g.10gb"]}]}}, "gpus.simulate[0].mig"),
    ({"gpus": {"nvml": True}}, "gpus.nvml"),
    ({"images": {"base": ""}}, "images.base"),
    ({"images": {"frameworks": {"pytorch": "img"}}}, "images.frameworks.pytorch"),
    ({"images": {"registry": "x"}}, "images.registry"),
    ({"lifecycle": {"cpu_idle_percent": 150}}, "lifecycle.cpu_idle_percent"),
    ({"lifecycle": {"idle_warn_fraction": 2}}, "lifecycle.idle_warn_fraction"),
    ({"lifecycle": {"never_started_timeout": "later"}}, "lifecycle.never_started_timeout"),
    ({"lifecycle": {"runtime_warn_fractions": [0.5, 3]}}, "lifecycle.runtime_warn_fractions[1]"),
    ({"lifecycle": {"exemptions": [{"user": "a", "what": "everything", "reason": "r"}]}},
     "lifecycle.exemptions[0].what"),
    ({"lifecycle": {"exemptions": [{"user": "a", "until": "someday", "reason": "r"}]}},
     "lifecycle.exemptions[0].until"),
    ({"slices": {"enabled": "on"}}, "slices.enabled"),
])
def test_top_level_and_section_keys_are_checked(tmp_path, document, keypath):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, document)
    assert any(f": {keypath}:" in problem for problem in caught.value.problems), caught.value.problems


def test_good_sections_load_with_their_values(tmp_path):
    config = load(tmp_path, {
        "admin_group": "wheel", "workspace_root": "/srv/work",
        "gpus": {"simulate": [{"model": "A100", "memory": "80g", "mig": ["3g.40gb", "1g.10gb"]}]},
        "images": {"base": "debian:12", "frameworks": {"pytorch-2.3": "pt:2.3"}},
        "lifecycle": {"cpu_idle_percent": 5, "exemptions": [
            {"user": "carol", "what": "idle", "until": "2030-01-01", "reason": "eval"}]},
        "slices": {"enabled": True},
    })
    assert config.admin_group == "wheel"
    assert str(config.workspace_dir("/home/x")) == "/srv/work"
    assert config.simulated_gpus[0]["mig"] == ["3g.40gb", "1g.10gb"]
    assert config.frameworks == {"pytorch-2.3": "pt:2.3"}
    assert config.base_image == "debian:12"
    assert config.lifecycle["cpu_idle_percent"] == 5
    assert config.lifecycle["idle_warn_fraction"] == 0.8
    assert config.slices["enabled"] is True


def test_workspace_root_tilde_is_each_users_home(tmp_path):
    config = load(tmp_path, {})
    assert str(config.workspace_dir("/home/alice")) == "/home/alice/workspace"


def test_unknown_key_wrong_type_and_bad_size_are_reported_together(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"defaults": {"memroy": "8g", "max_cpus": "four", "shm_size": "8q"}})
    problems = caught.value.problems
    assert len(problems) == 3
    assert any("defaults.memroy: unknown key" in p for p in problems)
    assert any("defaults.max_cpus:" in p for p in problems)
    assert any("defaults.shm_size:" in p and "size" in p for p in problems)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "limits.yaml"
    path.write_text("defaults:\n  memory: [8g\n")
    with pytest.raises(ConfigError, match=r"line \d+"):
        config_module.load(path)


def test_a_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        config_module.load(tmp_path / "nope.yaml")


def test_the_shipped_example_config_is_valid():
    from helpers import ROOT

    config = config_module.load(ROOT / "config" / "resource-limits.yaml")
    assert config.limits_for("bob").reason
    assert config.limits_for("carol").group == "faculty"


def test_a_config_that_is_not_utf8_text_is_a_config_error_not_a_crash(tmp_path):
    path = tmp_path / "resource-limits.yaml"
    path.write_bytes(b"\xff\xfe defaults: {}\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        config_module.load(path)


def test_a_single_config_problem_is_reported_on_one_line(tmp_path):
    path = tmp_path / "resource-limits.yaml"
    path.write_text("defaults: {max_cpus: lots}\n")
    with pytest.raises(ConfigError) as caught:
        config_module.load(path)
    assert "\n" not in str(caught.value) and "max_cpus" in str(caught.value)
