"""The width argparse wraps help to, found without shutil, is the one shutil finds."""

import argparse
import os
import shutil

import pytest
from ds01common import cli, terminal

COLUMN_SETTINGS = [None, "120", "37", "0", "-4", "wide", " 99 ", ""]


def set_columns(monkeypatch, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)


@pytest.mark.parametrize("columns", COLUMN_SETTINGS)
def test_terminal_columns_are_the_ones_shutil_finds(columns, monkeypatch):
    set_columns(monkeypatch, columns)
    assert terminal.columns(os.environ) == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns", COLUMN_SETTINGS)
def test_a_commands_parser_formats_help_as_argparse_itself_would(columns, monkeypatch):
    set_columns(monkeypatch, columns)
    doc = "Summary line.\n\nA description kept as written,\n  indented and all."

    def build(**options):
        made = argparse.ArgumentParser(prog="demo", description=doc, **options)
        made.add_argument("name", metavar="NAME", help="a container name " * 6)
        made.add_argument("--gpus", metavar="N|all", help="how many GPU slots, or all of them " * 3)
        return made

    ours = cli.parser(doc)
    ours.prog = "demo"
    ours.add_argument("name", metavar="NAME", help="a container name " * 6)
    ours.add_argument("--gpus", metavar="N|all", help="how many GPU slots, or all of them " * 3)
    assert ours.format_help() == build(formatter_class=argparse.RawDescriptionHelpFormatter).format_help()
