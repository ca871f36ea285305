"""What every command shares: the one error boundary, the parser, the context, output helpers.

A command script is a docstring, a `build_parser()` and `main(argv) -> int`, ending with
`cli.run(main)`. Library code raises typed errors; `run` maps them to exit codes.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

from .errors import EXIT_ERROR, EXIT_INTERRUPTED, Ds01Error

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:  # types only: a command must not pay for these imports at start-up
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any, NoReturn

    from .clock import Clock
    from .config import Config
    from .identity import User
    from .inventory import Inventory


def program_name() -> str:
    return os.path.basename(sys.argv[0]) or "ds01"


def _write_message(message: str) -> None:
    try:
        sys.stderr.write(f"{program_name()}: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def process_environment() -> Mapping[str, str]:
    """This process's environment, read here and nowhere else in the library (paths.py reads the
    DS01_* locations): a command's Context holds it, and library functions that need a variable,
    or an environment to hand to a child process, take it as a parameter."""
    return os.environ


def setup_logging(debug: bool = False) -> None:
    """Library messages (ds01common.log) to stderr as "program: message" lines, debug ones only
    with `debug` (DS01_DEBUG, for `run`); what `run` sets up for every command, without importing
    logging."""
    from . import log

    log.send_to(_write_message, debug=debug)


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
    setup_logging(debug=bool(process_environment().get("DS01_DEBUG")))
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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given the width argparse would find (terminal.py) so that building
    a parser does not import shutil for it; the help text is the same."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            from .terminal import columns

            width = columns(process_environment()) - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def parser(doc: str | None, *arguments: Callable[[argparse.ArgumentParser], object],
           **kwargs: Any) -> argparse.ArgumentParser:
    """An ArgumentParser whose description is the script's docstring, with `arguments` added in
    order: each an `Argument(...)`, an `exclusive(...)` group or a function that adds to a parser
    (add_user_option, ...)."""
    description = (doc or "").strip()
    result = argparse.ArgumentParser(prog=program_name(), description=description,
                                     formatter_class=_HelpFormatter, **kwargs)
    for add in arguments:
        add(result)
    return result


class Argument:
    """One `add_argument(*flags, **options)` kept for later, so a command's parser reads as one list."""

    __slots__ = ("flags", "options")

    def __init__(self, *flags: str, **options: Any) -> None:
        self.flags = flags
        self.options = options

    def __call__(self, parser_: argparse._ActionsContainer) -> None:
        parser_.add_argument(*self.flags, **self.options)


# Options several commands share word for word.
ALL_USERS = Argument("-a", "--all", action="store_true", help="every user's containers (admins)")
GUIDED_CHOICES = Argument("--guided", action="store_true", help="explain and ask about each choice")
GUIDED_STEPS = Argument("--guided", action="store_true", help="explain and ask about each step")


def exclusive(*arguments: Argument, required: bool = False) -> Callable[[argparse.ArgumentParser], None]:
    """`arguments` as a mutually exclusive group: at most one of them (with `required`, exactly one)."""
    def add(parser_: argparse.ArgumentParser) -> None:
        group = parser_.add_mutually_exclusive_group(required=required)
        for add_one in arguments:
            add_one(group)
    return add


def add_user_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("--user", metavar="NAME", help="act for another user (admins only)")


def add_json_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("--json", action="store_true", help="print one JSON document")


def add_yes_option(parser_: argparse.ArgumentParser) -> None:
    parser_.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


class Context:
    """Lazy access to what commands touch: config, acting user, Docker, state and log dirs, the
    clock and the environment (this process's, read once here; tests pass their own)."""

    def __init__(self, user_option: str | None = None, config: Config | None = None, docker: Any = None,
                 caller: User | None = None, clock: Clock | None = None,
                 environment: Mapping[str, str] | None = None) -> None:
        self.environment: Mapping[str, str] = dict(process_environment() if environment is None else environment)
        self._user_option = user_option
        # What the caller gives is used as it is; the rest is worked out on first use (the cached
        # properties below), so a command pays only for what it touches.
        given = {"config": config, "docker": docker, "caller": caller, "clock": clock}
        self.__dict__.update({name: value for name, value in given.items() if value is not None})

    @functools.cached_property
    def config(self) -> Config:
        from . import config as config_module
        return config_module.load()

    @functools.cached_property
    def caller(self) -> User:
        from .identity import current_user
        return current_user()

    @functools.cached_property
    def user(self) -> User:
        """The acting user: the caller, or --user's for an admin (exit 4 otherwise)."""
        from .identity import acting_user
        return acting_user(self._user_option, self.config.admin_group, self.caller)

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

    @functools.cached_property
    def docker(self) -> Any:
        from . import dockerapi
        return dockerapi.LazyClient(environment=self.environment)

    @functools.cached_property
    def clock(self) -> Clock:
        """The one clock the command's library calls are given (tests pass a fake one)."""
        from .clock import SYSTEM
        return SYSTEM

    @functools.cached_property
    def inventory(self) -> Inventory:
        """This host's GPU slots (NVML, or the config's simulation), discovered once per command."""
        from . import inventory
        return inventory.discover(self.config)

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
