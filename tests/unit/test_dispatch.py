"""Dispatchers: `image create` runs `image-create`; unknown subcommands are usage errors."""

import pytest
from ds01common import dispatch
from ds01common.commands import registry
from ds01common.errors import UsageError
from helpers import run_command


def test_subcommands_are_the_registered_commands_with_the_prefix():
    subs = dispatch.subcommands("image")
    assert {"create", "list", "update", "delete"} <= set(subs)
    assert subs["create"] == registry.find("image-create").summary()


def test_an_alias_is_not_a_separate_subcommand():
    assert "new-project" not in {command.name for command in registry.family("project").values()}


def test_resolve_gives_the_command_for_a_known_subcommand():
    assert dispatch.resolve("image", "create") == "image-create"


def test_an_unknown_subcommand_is_a_usage_error_listing_the_choices():
    with pytest.raises(UsageError, match="unknown subcommand 'build': choose from create"):
        dispatch.resolve("image", "build")


def test_the_subcommand_listing_aligns_descriptions():
    lines = dispatch.describe_subcommands("project").splitlines()
    assert lines[0] == "subcommands:"
    assert lines[1].startswith("  init    ") and lines[2].startswith("  launch  ")


def test_a_dispatched_command_runs_under_the_subcommands_own_name():
    result = run_command("project", "launch", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: project-launch")


def test_a_dispatched_usage_error_is_exit_two():
    result = run_command("image", "frobnicate")
    assert result.returncode == 2
    assert "unknown subcommand 'frobnicate'" in result.stderr
