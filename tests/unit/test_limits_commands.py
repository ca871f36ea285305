"""get-resource-limits / check-limits and alias-list, run as commands from the checkout."""

import json

from ds01common.config import LIMIT_KEYS
from helpers import run_command, write_config


def test_limits_json_has_every_contract_key_in_bytes_and_seconds(ds01_env):
    write_config(ds01_env, {"defaults": {"memory": "2g", "idle_timeout": "30m", "max_runtime": None}})
    result = run_command("get-resource-limits", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(LIMIT_KEYS) | {"group"} <= set(document)
    assert document["memory"] == 2 * 1024 ** 3
    assert document["idle_timeout"] == 1800
    assert document["max_runtime"] is None


def test_an_admin_sees_another_users_limits_and_the_group_that_applies(ds01_env):
    write_config(ds01_env, {"groups": {"student": {"members": []},
                                       "researcher": {"members": ["nobody"], "max_mig_instances": 2}},
                            "user_overrides": {"nobody": {"max_cpus": 3, "reason": "testing"}}})
    document = json.loads(run_command("check-limits", "nobody", "--json").stdout)
    assert document["group"] == "researcher"
    assert document["max_mig_instances"] == 2 and document["max_cpus"] == 3
    assert document["reason"] == "testing"


def test_the_readable_table_lists_every_limit(ds01_env):
    result = run_command("get-resource-limits")
    assert result.returncode == 0
    for key in LIMIT_KEYS:
        assert key in result.stdout


def test_a_config_with_three_problems_reports_all_three_with_exit_1(ds01_env):
    ds01_env["config"].write_text("defaults:\n  memroy: 8g\n  max_cpus: four\n  shm_size: 8q\n")
    result = run_command("get-resource-limits")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for key in ("defaults.memroy", "defaults.max_cpus", "defaults.shm_size"):
        assert f"{ds01_env['config']}: {key}:" in result.stderr


def test_an_unknown_user_is_a_clear_error(ds01_env):
    result = run_command("get-resource-limits", "no-such-user-ds01")
    assert result.returncode == 1
    assert result.stderr.strip() == "get-resource-limits: no such user: no-such-user-ds01"


def test_alias_list_shows_every_command_with_its_tier(ds01_env):
    import os

    from helpers import BIN

    result = run_command("alias-list", "--json")
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    commands = {path.name for path in BIN.iterdir() if os.access(path, os.X_OK)}
    assert set(entries) == commands
    assert entries["check-limits"]["alias_of"] == "get-resource-limits"
    assert entries["get-resource-limits"]["tier"] == "admin"
    text = run_command("alias-list").stdout
    assert "check-limits" in text and "alias of get-resource-limits" in text
