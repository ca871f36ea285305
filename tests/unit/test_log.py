"""The library's log shim: the standard "ds01" logger, or straight lines under a command."""

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

from ds01common import log

LIB = Path(__file__).resolve().parents[2] / "lib"


def test_outside_a_command_messages_reach_the_ds01_logger(caplog):
    with caplog.at_level(logging.DEBUG, logger="ds01"):
        log.warning("disk %s is %d%% full", "/data", 93)
        log.debug("detail")
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", "disk /data is 93% full"), ("DEBUG", "detail")]
    assert caplog.records[0].funcName == "test_outside_a_command_messages_reach_the_ds01_logger"


def test_under_a_command_lines_go_to_the_writer_and_debug_only_when_asked():
    said: list[str] = []
    try:
        log.send_to(said.append)
        log.warning("a %s", "warning")
        log.info("plain 100% text")
        log.debug("hidden")
        log.send_to(said.append, debug=True)
        log.debug("shown %d", 1)
    finally:
        log.send_to(None)
    assert said == ["a warning", "plain 100% text", "shown 1"]


def test_a_command_that_warns_never_imports_logging():
    script = textwrap.dedent("""
        import sys
        from ds01common import cli, log

        def main(argv):
            log.warning("careful: %s", "this")
            return 0 if "logging" not in sys.modules else 9

        cli.run(main, [])
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(LIB), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith(": careful: this\n")
