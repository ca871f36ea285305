"""Running other programs: output captured, failures one line, missing programs and timeouts named."""

import sys

import pytest
from ds01common import process
from ds01common.errors import Ds01Error


def test_a_successful_command_returns_its_output():
    result = process.run([sys.executable, "-c", "print('hi')"])
    assert result.returncode == 0 and result.stdout == "hi\n"


def test_a_failure_is_one_line_naming_the_command_and_the_last_error_line():
    with pytest.raises(Ds01Error) as raised:
        process.run([sys.executable, "-c", "import sys; sys.stderr.write('first\\nlast words\\n'); sys.exit(3)"])
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith("failed: last words") and message.startswith(sys.executable)


def test_a_silent_failure_gives_the_exit_status():
    with pytest.raises(Ds01Error, match="failed: exit status 4"):
        process.run([sys.executable, "-c", "raise SystemExit(4)"])


def test_check_false_returns_the_failure_instead_of_raising():
    assert process.run([sys.executable, "-c", "raise SystemExit(2)"], check=False).returncode == 2


def test_a_missing_program_says_it_is_not_installed():
    with pytest.raises(Ds01Error, match="ds01-no-such-program is not installed"):
        process.run(["ds01-no-such-program"])


def test_a_command_past_its_timeout_is_stopped_and_named():
    with pytest.raises(Ds01Error, match=r"did not finish within 0.2s"):
        process.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2)


def test_input_reaches_the_command():
    assert process.run([sys.executable, "-c", "print(input()[::-1])"], input="abc\n").stdout == "cba\n"
