"""The installed commands answer a lone --help from the text `make install` rendered, exactly
as argparse does in the checkout (same text, nothing on stderr, exit 0), without importing it."""

import os
import subprocess

import pytest
from helpers import BIN, run_command

PROGRAMS = sorted(path.name for path in BIN.iterdir() if os.access(path, os.X_OK))


def same_help(installed, program, *flags, env=None):
    ours = run_command(program, *flags, bin_dir=installed["bin"], env=env)
    checkout = run_command(program, *flags, env=env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (checkout.returncode, checkout.stdout, checkout.stderr)
    return ours


def test_install_renders_every_commands_help(installed):
    rendered = installed["PREFIX"] / "lib/ds01/ds01common/commands/_rendered_help.py"
    text = rendered.read_text()
    assert all(f"'{program}': " in text for program in PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_installed_help_is_the_checkouts_argparse_help(installed, program):
    result = same_help(installed, program, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def test_a_lone_help_flag_skips_argparse_in_the_installed_copy(installed):
    python = installed["PREFIX"] / "lib/ds01/venv/bin/python"
    for flag in ("-h", "--help"):
        result = subprocess.run([str(python), "-I", "-X", "importtime", str(installed["bin"] / "check-limits"), flag],
                                capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.startswith("usage: check-limits")
        assert " argparse\n" not in result.stderr and "ds01common.commands._rendered_help" in result.stderr


def test_other_widths_and_arguments_still_go_through_argparse(installed):
    same_help(installed, "container-list", "--help", env={"COLUMNS": "132"})
    same_help(installed, "container", "list", "--help", env={"COLUMNS": "80"})
    same_help(installed, "gpu-status", "--help", "--json")
