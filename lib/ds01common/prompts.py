"""The one module that asks people questions (questionary, imported lazily).

Prompts appear only on a terminal. Without one, a question that no flag answered is a
UsageError (exit 2) that names the flag to use instead. Tests (and anything else that
drives the questions) can hand in prompt_toolkit input/output objects with `use_io`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import paths
from .errors import UsageError

_io: dict[str, Any] = {}  # prompt_toolkit `input` / `output` objects handed in by use_io
# A choice: a plain string, or a (title, value) pair shown as the title and answered with the value.
ChoiceSpec = str | tuple[str, Any]


@contextlib.contextmanager
def use_io(input: Any = None, output: Any = None) -> Iterator[None]:  # noqa: A002
    """Ask on these prompt_toolkit input/output objects (e.g. create_pipe_input()) inside the block."""
    previous = dict(_io)
    _io.clear()
    _io.update({key: value for key, value in (("input", input), ("output", output)) if value is not None})
    try:
        yield
    finally:
        _io.clear()
        _io.update(previous)


def interactive() -> bool:
    """Whether a person can answer: stdin and stdout are terminals (DS01_ASSUME_TTY forces it for tests)."""
    if "input" in _io or paths.assume_tty():
        return True
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def require_terminal(flag_hint: str) -> None:
    if not interactive():
        raise UsageError(f"no terminal to ask on: use {flag_hint}")


def _answer(question: Any) -> Any:
    """Ask a questionary question; Ctrl-C or EOF becomes KeyboardInterrupt (exit 130)."""
    try:
        answer = question.unsafe_ask()
    except EOFError:
        raise KeyboardInterrupt from None
    if answer is None:
        raise KeyboardInterrupt
    return answer


def explain(text: str) -> None:
    """A paragraph of explanation before a question (on the same output the questions use)."""
    output = _io.get("output")
    if output is not None:
        output.write_raw(text + "\n")
        output.flush()
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def confirm(message: str, flag: str = "--yes", default: bool = False) -> bool:
    """Yes/no; without a terminal it is exit 2 naming `flag`."""
    require_terminal(flag)
    import questionary
    return bool(_answer(questionary.confirm(message, default=default, **_io)))


def text(message: str, flag: str, default: str = "",
         validate: Callable[[str], bool | str] | None = None) -> str:
    require_terminal(flag)
    import questionary
    return str(_answer(questionary.text(message, default=default, validate=validate, **_io)))


def _choices(choices: Iterable[ChoiceSpec]) -> list[Any]:
    """Plain strings, or (title, value) pairs shown as the title and answered with the value."""
    import questionary
    return [questionary.Choice(choice[0], value=choice[1]) if isinstance(choice, tuple) else choice
            for choice in choices]


def select(message: str, choices: Iterable[ChoiceSpec], flag: str, default: Any = None) -> Any:
    """One of `choices` (strings or (title, value) pairs); `default` is a value."""
    require_terminal(flag)
    import questionary
    return _answer(questionary.select(message, choices=_choices(choices), default=default, **_io))


def checkbox(message: str, choices: Iterable[ChoiceSpec], flag: str) -> list[Any]:
    require_terminal(flag)
    import questionary
    return list(_answer(questionary.checkbox(message, choices=_choices(choices), **_io)))
