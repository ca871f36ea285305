"""The one module that asks people questions (questionary, imported lazily).

Prompts appear only on a terminal. Without one, a question that no flag answered is a
UsageError (exit 2) that names the flag to use instead.
"""

import os
import sys

from .errors import UsageError


def interactive():
    """Whether a person can answer: stdin and stdout are terminals (DS01_ASSUME_TTY forces it for tests)."""
    if os.environ.get("DS01_ASSUME_TTY") == "1":
        return True
    return sys.stdin.isatty() and sys.stdout.isatty()


def require_terminal(flag_hint):
    if not interactive():
        raise UsageError(f"no terminal to ask on: use {flag_hint}")


def _answer(question):
    """Ask a questionary question; Ctrl-C or EOF becomes KeyboardInterrupt (exit 130)."""
    answer = question.unsafe_ask()
    return answer


def confirm(message, flag="--yes", default=False):
    """Yes/no; without a terminal it is exit 2 naming `flag`."""
    require_terminal(flag)
    import questionary
    return bool(_answer(questionary.confirm(message, default=default)))


def text(message, flag, default="", validate=None):
    require_terminal(flag)
    import questionary
    return _answer(questionary.text(message, default=default, validate=validate))


def select(message, choices, flag, default=None):
    require_terminal(flag)
    import questionary
    return _answer(questionary.select(message, choices=list(choices), default=default))


def checkbox(message, choices, flag):
    require_terminal(flag)
    import questionary
    return _answer(questionary.checkbox(message, choices=list(choices)))
