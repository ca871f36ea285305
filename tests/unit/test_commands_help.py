"""Every command answers --help: exit 0, a description on stdout, nothing on stderr."""

import os

import pytest
from helpers import BIN, run_command

# From bin/ itself, not the registry: a wrapper the registry forgot must fail here too.
COMMANDS = sorted(path.name for path in BIN.iterdir() if os.access(path, os.X_OK))


def test_there_are_commands_to_check():
    assert "get-resource-limits" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_help_cleanly(command):
    result = run_command(command, "--help", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "usage:" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_registered_with_a_tier_and_a_description(command):
    from ds01common.commands import registry

    entry = registry.find(command)
    assert entry.tier in registry.TIERS
    assert entry.summary() and not entry.summary().endswith(":")
