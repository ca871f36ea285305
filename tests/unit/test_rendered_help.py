"""A lone --help prints the text `make install` rendered, only when it is exactly argparse's."""

import os
import types

import pytest
from ds01common.commands import rendered_help
from helpers import BIN, run_command

PROGRAMS = sorted(path.name for path in BIN.iterdir() if os.access(path, os.X_OK))


@pytest.fixture(scope="module")
def rendered():
    return rendered_help.render_all()


def fake_module(texts, columns=rendered_help.RENDERED_COLUMNS, python=None, stamp=None):
    return types.SimpleNamespace(PYTHON=python or rendered_help.python_version(), COLUMNS=columns, TEXTS=texts,
                                 STAMP=rendered_help.library_stamp() if stamp is None else stamp)


def test_every_command_and_alias_gets_a_rendered_help(rendered):
    assert sorted(rendered) == PROGRAMS
    assert rendered["check-limits"][0] == "get-resource-limits"
    assert rendered["check-limits"][1].startswith("usage: check-limits ")


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_rendered_help_is_what_argparse_prints(program, rendered):
    argparse_help = run_command(program, "--help", env={"COLUMNS": str(rendered_help.RENDERED_COLUMNS)})
    assert argparse_help.returncode == 0, argparse_help.stderr
    assert rendered[program][1] == argparse_help.stdout


def test_a_lone_help_flag_gets_the_rendered_text_when_it_fits():
    module = fake_module({"check-limits": ("get-resource-limits", "usage: check-limits\n")})
    environ = {"COLUMNS": "80"}
    for flag in ("-h", "--help"):
        assert rendered_help.lookup("get-resource-limits", "check-limits", [flag], environ, module) \
            == "usage: check-limits\n"


@pytest.mark.parametrize("name, program, argv, environ, python", [
    ("gpu-status", "gpu-status", ["--help", "--json"], {"COLUMNS": "80"}, None),  # not a lone flag
    ("gpu-status", "gpu-status", ["--json"], {"COLUMNS": "80"}, None),
    ("gpu-status", "gpu-status", ["--help"], {"COLUMNS": "132"}, None),  # another terminal width
    ("gpu-status", "gpu-status", ["--help"], {"COLUMNS": "80"}, "2.7.18"),  # another Python's argparse
    ("gpu-status", "status", ["--help"], {"COLUMNS": "80"}, None),  # a program name never rendered
    ("container-list", "gpu-status", ["--help"], {"COLUMNS": "80"}, None),  # a wrapper copied under another name
])
def test_help_falls_back_to_argparse_when_the_rendered_text_may_differ(name, program, argv, environ, python):
    module = fake_module({"gpu-status": ("gpu-status", "usage: gpu-status\n")}, python=python)
    assert rendered_help.lookup(name, program, argv, environ, module) is None


def test_a_library_changed_since_rendering_goes_back_to_argparse(tmp_path):
    library = tmp_path / "ds01common"
    (library / "commands").mkdir(parents=True)
    for name in ("cli.py", "_install.py", "commands/container_list.py", "commands/_rendered_help.py"):
        (library / name).write_text("")
    stamp = rendered_help.library_stamp(str(library))
    assert stamp > 0
    os.utime(library / "_install.py", ns=(stamp + 10**9, stamp + 10**9))  # make install's own, not a source
    assert rendered_help.library_stamp(str(library)) == stamp
    os.utime(library / "commands/container_list.py", ns=(stamp + 10**9, stamp + 10**9))
    assert rendered_help.library_stamp(str(library)) == stamp + 10**9
    module = fake_module({"gpu-status": ("gpu-status", "usage: gpu-status\n")}, stamp=rendered_help.library_stamp() - 1)
    assert rendered_help.lookup("gpu-status", "gpu-status", ["--help"], {"COLUMNS": "80"}, module) is None


def test_a_checkout_has_no_rendered_help_so_argparse_answers():
    assert rendered_help.lookup("gpu-status", "gpu-status", ["--help"], {"COLUMNS": "80"}) is None


def test_the_written_module_holds_every_text_as_rendered(tmp_path, rendered):
    path = tmp_path / "_rendered_help.py"
    count = rendered_help.write(str(path))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert count == len(PROGRAMS)
    assert namespace["TEXTS"] == rendered
    assert (namespace["PYTHON"], namespace["COLUMNS"]) == (rendered_help.python_version(), 80)
    assert namespace["STAMP"] == rendered_help.library_stamp()
