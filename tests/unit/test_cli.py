"""The one error boundary: typed errors become exit codes and one line; surprises are logged."""

import subprocess
import sys
import textwrap

import pytest
from helpers import ROOT


def run_main(body, tmp_path):
    script = tmp_path / "fake-command"
    script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT / 'lib')!r})\n"
                      "from ds01common import cli, errors\n" + textwrap.dedent(body) + "\ncli.run(main)\n")
    env = {"DS01_LOG_DIR": str(tmp_path / "log"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("error, code", [
    ("errors.Ds01Error('bad input')", 1), ("errors.NotFound('no such thing')", 1),
    ("errors.UsageError('use --yes')", 2), ("errors.ResourcesUnavailable('no GPU free')", 3),
    ("errors.PermissionDenied('permission denied: x belongs to y')", 4), ("KeyboardInterrupt()", 130),
])
def test_typed_errors_map_to_the_contracts_exit_codes(tmp_path, error, code):
    result = run_main(f"def main(argv):\n    raise {error}\n", tmp_path)
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_message_is_prefixed_with_the_command_name(tmp_path):
    result = run_main("def main(argv):\n    raise errors.Ds01Error('bad input')\n", tmp_path)
    assert result.stderr == "fake-command: bad input\n"


def test_an_unexpected_exception_is_one_line_with_the_path_of_its_traceback(tmp_path):
    result = run_main("def main(argv):\n    {}['missing']\n", tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "unexpected error: KeyError" in line
    log_path = line.rsplit("traceback in ", 1)[1].rstrip(")")
    assert "Traceback" in open(log_path).read()
    assert log_path.startswith(str(tmp_path / "log"))


def test_main_return_value_is_the_exit_code(tmp_path):
    assert run_main("def main(argv):\n    return 7\n", tmp_path).returncode == 7
    assert run_main("def main(argv):\n    return None\n", tmp_path).returncode == 0


def test_tables_align_columns():
    from ds01common.cli import format_table

    text = format_table([("a", 1), ("long-name", None)], ("NAME", "N"))
    assert text.splitlines() == ["NAME       N", "a          1", "long-name  -"]


@pytest.mark.parametrize("seconds", ["-3", "99999999999999999999"])
def test_container_stop_refuses_a_stop_timeout_out_of_range_as_usage(seconds):
    from helpers import run_command

    result = run_command("container-stop", "demo", "-t", seconds, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode == 2 and "-t must be" in result.stderr and "Traceback" not in result.stderr
