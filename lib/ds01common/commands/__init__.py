"""Every DS01 command's logic, one module per command; bin/ holds five-line wrappers.

A wrapper calls `launch(NAME)`, which imports only that command's module (so a command pays
for its own imports and no other's) and runs its `main` inside the one error boundary.
"""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: importing typing costs every command start more than
# the rest of this module; mypy treats any name TYPE_CHECKING as true all the same.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

HELP_ONLY = (["-h"], ["--help"])  # argv that prints the help text and nothing else


def load(name: str) -> Callable[[list[str]], int]:
    """The `main(argv)` of the command called `name` (dispatchers get their prefix bound)."""
    import importlib

    from .registry import find

    command = find(name)
    module: ModuleType = importlib.import_module(f"{__name__}.{command.module_name}")
    main: Callable[..., int] = module.main
    if command.prefix:
        import functools

        return functools.partial(main, prefix=command.prefix)
    return main


def launch(name: str) -> None:
    """Run the command called `name` with sys.argv, mapping errors to exit codes; never returns."""
    import os
    import sys

    if sys.argv[1:] in HELP_ONLY:
        # A lone help flag: the text `make install` rendered, when it is what argparse would
        # print now (rendered_help.py); argparse's import alone costs more than Python's start.
        from .rendered_help import lookup

        text = lookup(name, os.path.basename(sys.argv[0]), sys.argv[1:], os.environ)
        if text is not None:
            try:  # as argparse prints help: a closed or missing stdout is not an error
                sys.stdout.write(text)
            except (AttributeError, OSError):
                pass
            sys.exit(0)
    from .. import cli

    def through_the_door(argv: list[str]) -> int:
        # Locked mode: re-run through sudo, or take the acting user from it (access.py). A bare
        # --help touches nothing the door guards, so it skips the door and its imports (pathlib).
        if argv not in HELP_ONLY:
            from .. import access

            access.enter(name, argv, cli.process_environment())
        return load(name)(argv)

    cli.run(through_the_door)
