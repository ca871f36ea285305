"""The command catalogue read from scripts on disk: docstring, TIER and symlink aliases."""

import os

from ds01common import catalog


def script(directory, name, body, executable=True):
    path = directory / name
    path.write_text(body)
    path.chmod(0o755 if executable else 0o644)
    return path


def test_describe_reads_the_tier_and_first_docstring_line_without_running_the_script(tmp_path):
    path = script(tmp_path, "thing", '#!/usr/bin/env python3\n"""Do one thing.\n\nMore text."""\n'
                                     'raise SystemExit("must not run")\nTIER = "atomic"\n')
    assert catalog.describe(path) == ("atomic", "Do one thing.")


def test_a_script_that_is_not_python_has_no_tier(tmp_path):
    path = script(tmp_path, "shell", "#!/bin/sh\necho hi )(\n")
    assert catalog.describe(path) == (None, "")


def test_commands_lists_executables_with_a_tier_and_names_aliases(tmp_path):
    script(tmp_path, "b-real", '"""Real command."""\nTIER = "admin"\n')
    script(tmp_path, "a-no-tier", '"""No tier here."""\n')
    script(tmp_path, "c-not-executable", '"""Hidden."""\nTIER = "atomic"\n', executable=False)
    os.symlink("b-real", tmp_path / "d-alias")
    entries = catalog.commands(tmp_path)
    assert entries == [
        {"name": "b-real", "tier": "admin", "description": "Real command.", "alias_of": None},
        {"name": "d-alias", "tier": "admin", "description": "Real command.", "alias_of": "b-real"},
    ]


def test_every_tier_has_a_title():
    assert set(catalog.TIER_TITLES) == set(catalog.TIERS)
