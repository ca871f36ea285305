"""The command catalogue and registry: every command once, aliases named, bin/ in step with it."""

import os

from ds01common import catalog
from ds01common.commands import registry
from helpers import BIN


def test_every_registered_command_has_a_wrapper_in_bin_that_launches_it():
    for command in registry.COMMANDS:
        wrapper = BIN / command.name
        assert wrapper.is_file() and os.access(wrapper, os.X_OK), command.name
        assert f'launch("{command.name}")' in wrapper.read_text(), command.name


def test_every_executable_in_bin_is_registered_and_aliases_are_symlinks():
    for path in BIN.iterdir():
        if path.is_symlink():
            assert registry.ALIASES[path.name] == os.readlink(path)
        else:
            assert path.name in registry.BY_NAME, path.name


def test_every_command_module_exists_and_has_a_summary():
    for command in registry.COMMANDS:
        assert os.path.isfile(command.module_path), command.name
        summary = command.summary()
        assert summary and not summary.endswith(":"), command.name


def test_commands_lists_aliases_with_the_command_they_stand_for():
    entries = {entry["name"]: entry for entry in catalog.commands()}
    assert entries["check-limits"]["alias_of"] == "get-resource-limits"
    assert entries["check-limits"]["description"] == entries["get-resource-limits"]["description"]
    assert entries["get-resource-limits"]["alias_of"] is None
    assert [entry["name"] for entry in catalog.commands()] == sorted(entries)


def test_every_tier_has_a_title_and_every_command_a_known_tier():
    assert set(catalog.TIER_TITLES) == set(catalog.TIERS)
    assert {command.tier for command in registry.COMMANDS} <= set(catalog.TIERS)
