"""Every command answers --help: exit 0, a description on stdout, nothing on stderr."""

import os

import pytest
from helpers import BIN, run_command

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
def test_every_command_declares_a_tier_and_a_description(command):
    from ds01common import catalog

    tier, description = catalog.describe((BIN / command).resolve())
    assert tier in catalog.TIERS
    assert description and not description.endswith(":")
