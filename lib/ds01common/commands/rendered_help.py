"""Every command's `--help`, rendered once by `make install`, so a lone `-h`/`--help` skips argparse.

Importing argparse (with re, gettext and locale) costs more than the interpreter's own start, so
`make install` runs each command's `--help` here, through the command's own parser, and writes the
texts to `_rendered_help.py` beside this module. `launch` prints a rendered text only when it is
exactly what argparse would print now: same command and program name, same Python, no library
module changed since (by modification time, as Python checks its .pyc files), and the width
argparse would wrap at (the terminal's, or COLUMNS; 80 columns when output is not a terminal).
Anything else, and every checkout (where the file does not exist), goes through argparse.

    python -m ds01common.commands.rendered_help OUTPUT.py   # what `make install` runs
"""

from __future__ import annotations

import os
import sys

from .. import terminal

TYPE_CHECKING = False  # typing's own flag would import typing, which this fast path exists to avoid
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

HELP_FLAGS = ("-h", "--help")
RENDERED_COLUMNS = 80  # argparse's width when output is not a terminal: pipes, scripts, `| less`
LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # ds01common
GENERATED = ("_rendered_help.py", "_install.py")  # written by make install, not help's sources


def python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def library_stamp(library: str = LIBRARY) -> int:
    """The newest modification time (ns) of the library's modules, its subpackages' included:
    a text rendered before it may be stale. -1 when the library cannot be read."""
    newest = 0
    try:
        with os.scandir(library) as entries:
            folders = [library] + [entry.path for entry in entries if entry.is_dir() and entry.name != "__pycache__"]
        for folder in folders:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".py") and entry.name not in GENERATED:
                        newest = max(newest, entry.stat().st_mtime_ns)
    except OSError:
        return -1
    return newest


def _rendered_module() -> ModuleType | None:
    try:
        from . import _rendered_help  # type: ignore[attr-defined]  # written by `make install` only
    except ImportError:
        return None
    module: ModuleType = _rendered_help
    return module


def lookup(name: str, program: str, argv: list[str], environ: Mapping[str, str],
           rendered: ModuleType | None = None) -> str | None:
    """The help text command `name`, called as `program`, would print for `argv`; None unless
    argv is a lone help flag and a text rendered for this Python, library and width exists."""
    if len(argv) != 1 or argv[0] not in HELP_FLAGS:
        return None
    rendered = _rendered_module() if rendered is None else rendered
    if rendered is None or rendered.PYTHON != python_version():
        return None
    if terminal.columns(environ) != rendered.COLUMNS:
        return None
    entry: tuple[str, str] | None = rendered.TEXTS.get(program)
    if entry is None or entry[0] != name or library_stamp() != rendered.STAMP:
        return None
    return entry[1]


def capture_help(name: str, program: str, flag: str, columns: int) -> str | None:
    """What `program --help` (command `name`) prints at `columns`, run in this process; None
    unless it prints to stdout only and leaves through argparse's exit(0), as a help flag does."""
    import contextlib
    import io

    from . import load

    saved_program, saved_columns = sys.argv[0] if sys.argv else "", os.environ.get("COLUMNS")
    output, errors = io.StringIO(), io.StringIO()
    code: object = None
    try:
        if sys.argv:
            sys.argv[0] = program
        else:
            sys.argv.append(program)
        os.environ["COLUMNS"] = str(columns)
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors):
            try:
                load(name)([flag])
            except SystemExit as leaving:
                code = leaving.code
            else:
                return None  # returned without exiting: not argparse's help path; leave it to argparse
    finally:
        sys.argv[0] = saved_program
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    if code != 0 or errors.getvalue():
        return None
    return output.getvalue()


def _capture_or_none(name: str, program: str, flag: str, columns: int) -> str | None:
    try:
        return capture_help(name, program, flag, columns)
    except Exception:  # noqa: BLE001 - a command that cannot render here keeps argparse's --help
        return None


def render_all(columns: int = RENDERED_COLUMNS) -> dict[str, tuple[str, str]]:
    """{program: (command, help text)} for every command and alias whose -h and --help agree."""
    from .registry import COMMANDS

    texts: dict[str, tuple[str, str]] = {}
    for command in COMMANDS:
        for program in (command.name, *command.aliases):
            shown = {_capture_or_none(command.name, program, flag, columns) for flag in HELP_FLAGS}
            if len(shown) == 1 and None not in shown:
                texts[program] = (command.name, shown.pop() or "")
    return texts


def module_text(texts: dict[str, tuple[str, str]], columns: int = RENDERED_COLUMNS, stamp: int = 0) -> str:
    lines = ['"""Written by make install (commands/rendered_help.py): every command\'s --help."""', "",
             f"PYTHON = {python_version()!r}", f"COLUMNS = {columns!r}", f"STAMP = {stamp!r}", "TEXTS = {"]
    lines += [f"    {program!r}: {entry!r}," for program, entry in sorted(texts.items())]
    return "\n".join(lines + ["}", ""])


def write(path: str, columns: int = RENDERED_COLUMNS) -> int:
    """Render every command's help into the module at `path`; the number of programs rendered."""
    stamp = library_stamp()
    texts = render_all(columns) if _argparse_is_plain() else {}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(module_text(texts, columns, stamp))
    return len(texts)


def _argparse_is_plain() -> bool:
    """From Python 3.14 argparse may colour help on a terminal, so one text no longer fits every
    output: render nothing there (every --help goes through argparse)."""
    return sys.version_info < (3, 14)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ds01common.commands.rendered_help OUTPUT.py")
    output_path = sys.argv[1]
    count = write(output_path)
    print(f"rendered --help for {count} programs into {output_path}")
