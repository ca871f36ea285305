"""What every command shares: the one error boundary, the parser, the context, output helpers.

A command script is a docstring, a `build_parser()` and `main(argv) -> int`, ending with
`cli.run(main)`. Library code raises typed errors; `run` maps them to exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys

from .errors import EXIT_ERROR, EXIT_INTERRUPTED, Ds01Error

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:  # types only: a command must not pay for these imports at start-up
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any, NoReturn

    from .clock import Clock
    from .config import Config
    from .identity import User
    from .inventory import Inventory

HELP_ONLY = (["-h"], ["--help"])  # argv that prints the help text and nothing else


def program_name() -> str:
    return os.path.basename(sys.argv[0]) or "ds01"


def _write_message(message: str) -> None:
    try:
        sys.stderr.write(f"{program_name()}: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def setup_logging() -> None:
    """Library messages (ds01common.log) to stderr as "program: message" lines, debug ones only
    with DS01_DEBUG; what `run` sets up for every command, without importing logging."""
    from . import log

    log.send_to(_write_message, debug=bool(os.environ.get("DS01_DEBUG")))


def _write_crash_log(error_text: str) -> Path | None:
    """Save a traceback where an admin can find it; return the file path."""
    import datetime
    import tempfile
    from pathlib import Path

    from . import paths

    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"crash-{program_name()}-{stamp}-{os.getpid()}.log"
    for directory in (paths.log_dir(), Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            # O_EXCL | O_NOFOLLOW: in /tmp or a group-writable log dir a planted name is refused.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(error_text)
            return path
        except OSError:
            continue
    return None


def run(main: Callable[[list[str]], int | None], argv: list[str] | None = None) -> NoReturn:
    """Call main(argv) and exit with its code; the one place errors become exit codes."""
    argv = sys.argv[1:] if argv is None else argv
    setup_logging()
    try:
        code = main(argv)
    except Ds01Error as error:
        lines = str(error).splitlines() or [type(error).__name__]
        sys.stderr.write(f"{program_name()}: {lines[0]}\n")
        for line in lines[1:]:
            sys.stderr.write(f"{line}\n")
        code = error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{program_name()}: interrupted\n")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): it had what it wanted; nothing more to say.
        _silence_stdout()
        code = 0
    except SystemExit:
        raise
    except Exception as error:
        import traceback

        crash = _write_crash_log(traceback.format_exc())
        where = f" (traceback in {crash})" if crash else ""
        message = " ".join(str(error).split()) or type(error).__name__
        sys.stderr.write(f"{program_name()}: unexpected error: {type(error).__name__}: {message}{where}\n")
        code = EXIT_ERROR
    _keep_limits_file_true()
    try:
        sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe means exit 120
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code or 0)


def _keep_limits_file_true() -> None:
    """Every command passes here: refresh the caller's ~/.ds01-limits when the config changed
    (a few stat calls when it did not). Never a reason for a command to fail."""
    try:
        from .limits_refresh import refresh_for_caller

        refresh_for_caller()
    except Exception as error:  # noqa: BLE001 - a stale limits file is not worth a failed command
        from . import log

        log.debug("~/.ds01-limits not refreshed: %s", error)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def parser(doc: str | None, **kwargs: Any) -> argparse.ArgumentParser:
    """An ArgumentParser whose description is the script's docstring."""
    description = (doc or "").strip()
    return argparse.ArgumentParser(prog=program_name(), description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def add_user_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("--user", metavar="NAME", help="act for another user (admins only)")


def add_json_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("--json", action="store_true", help="print one JSON document")


def add_yes_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


class Context:
    """Lazy access to what commands touch: config, acting user, Docker, state and log dirs."""

    def __init__(self, user_option: str | None = None, config: Config | None = None, docker: Any = None,
                 caller: User | None = None, clock: Clock | None = None) -> None:
        self._user_option = user_option
        self._config = config
        self._docker = docker
        self._caller = caller
        self._user: User | None = None
        self._clock = clock
        self._inventory: Inventory | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from . import config as config_module
            self._config = config_module.load()
        return self._config

    @property
    def caller(self) -> User:
        if self._caller is None:
            from .identity import current_user
            self._caller = current_user()
        return self._caller

    @property
    def user(self) -> User:
        """The acting user: the caller, or --user's for an admin (exit 4 otherwise)."""
        if self._user is None:
            from .identity import acting_user
            self._user = acting_user(self._user_option, self.config.admin_group, self.caller)
        return self._user

    @property
    def is_admin(self) -> bool:
        from .identity import is_admin
        return is_admin(self.caller, self.config.admin_group)

    def require_admin(self, what: str, hint: str = "") -> None:
        """PermissionDenied (exit 4) naming `what` unless the caller is root or in admin_group."""
        if not self.is_admin:
            from .errors import PermissionDenied
            raise PermissionDenied(f"permission denied: {what} is for root and members of "
                                   f"{self.config.admin_group}{hint}")

    @property
    def docker(self) -> Any:
        if self._docker is None:
            from . import dockerapi
            self._docker = dockerapi.LazyClient()
        return self._docker

    @property
    def clock(self) -> Clock:
        """The one clock the command's library calls are given (tests pass a fake one)."""
        if self._clock is None:
            from .clock import SYSTEM
            self._clock = SYSTEM
        return self._clock

    @property
    def inventory(self) -> Inventory:
        """This host's GPU slots (NVML, or the config's simulation), discovered once per command."""
        if self._inventory is None:
            from . import inventory
            self._inventory = inventory.discover(self.config)
        return self._inventory

    @property
    def state_dir(self) -> Path:
        from . import paths

        return paths.state_dir()

    @property
    def log_dir(self) -> Path:
        from . import paths

        return paths.log_dir()


def print_json(document: Any) -> None:
    import json

    json.dump(document, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def format_table(rows: Sequence[Sequence[Any]], headers: Sequence[Any]) -> str:
    """Plain aligned columns; rows are sequences of printable values."""
    table = [[str(cell) for cell in headers]] + [["-" if cell is None else str(cell) for cell in row]
                                                 for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    return "\n".join(lines)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[Any], empty: str = "nothing to show") -> None:
    print(format_table(rows, headers) if rows else empty)


Table = tuple["Sequence[Sequence[Any]]", "Sequence[Any]"]  # (rows, headers), as print_table takes them


def print_listing(as_json: bool, document: Any, table: Callable[[], Table], empty: str = "nothing to show") -> None:
    """A listing command's output: with --json the document, else the table `table()` makes
    (called only then: a script asking for JSON does not pay for formatting)."""
    if as_json:
        print_json(document)
        return
    rows, headers = table()
    print_table(rows, headers, empty)


def confirmed(yes: bool, question: str, refusal: str) -> bool:
    """--yes, or a person's yes to `question` (exit 2 without a terminal); a no prints `refusal`."""
    if yes:
        return True
    from . import prompts

    if prompts.confirm(question, flag="--yes"):
        return True
    print(refusal)
    return False


def parse_with_user(parser_: argparse.ArgumentParser, argv: list[str]) -> tuple[argparse.Namespace, Context]:
    """A command with --user: its arguments, and its context acting for --user's user (admins
    only; anyone else acts for themselves). The context is lazy: nothing is loaded yet."""
    args = parser_.parse_args(argv)
    return args, Context(user_option=args.user)


def write_through(text: str) -> None:
    """Show a long step's output (an image build) as it comes."""
    sys.stdout.write(text)
    sys.stdout.flush()


def output_if_terminal() -> Callable[[str], None] | None:
    """write_through on a terminal; None elsewhere (where the output would only clutter a log)."""
    return write_through if sys.stdout.isatty() else None
