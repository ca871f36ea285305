"""The terminal width argparse wraps help text to, found without importing shutil.

shutil (which imports bz2, lzma and fnmatch) is what argparse imports for this one number, in
every command that builds a parser; `columns` gives the same number for a fraction of the cost
(tests compare it with shutil.get_terminal_size).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping

FALLBACK_COLUMNS = 80  # shutil.get_terminal_size's fallback: output that is not a terminal


def columns(environ: Mapping[str, str]) -> int:
    """shutil.get_terminal_size().columns: COLUMNS when a positive number, else the width of
    the terminal on the process's original stdout, else 80."""
    try:
        from_environment = int(environ["COLUMNS"])
    except (KeyError, ValueError):
        from_environment = 0
    if from_environment > 0:
        return from_environment
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return FALLBACK_COLUMNS
    return size.columns or FALLBACK_COLUMNS
