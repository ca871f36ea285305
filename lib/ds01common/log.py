"""The "ds01" logger for library code, without importing `logging` unless a message needs it.

Importing logging costs a command several milliseconds at start-up. A library module writes
`from . import log` and calls `log.warning("...", value)` as it would on a Logger. Under a
command (`cli.run` calls `send_to`), a message goes straight to stderr as one
"program: message" line, which is all the command's logging setup ever did with it; anywhere
else (tests with caplog, other programs importing the library) it goes through the standard
"ds01" logger, imported at the first message. `stacklevel` makes records name the caller.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

LOGGER_NAME = "ds01"
DEBUG, INFO, WARNING = 10, 20, 30  # logging's own numbers, without importing it

_writer: Callable[[str], None] | None = None
_debug = False


def send_to(writer: Callable[[str], None] | None, debug: bool = False) -> None:
    """Send every message (debug ones only when `debug`) to `writer` as a formatted line,
    bypassing logging; None returns messages to the "ds01" logger."""
    global _writer, _debug
    _writer, _debug = writer, debug


def logger() -> logging.Logger:
    import logging

    return logging.getLogger(LOGGER_NAME)


def _emit(level: int, message: str, args: tuple[object, ...], exc_info: bool = False) -> None:
    if _writer is None:
        logger().log(level, message, *args, exc_info=exc_info, stacklevel=3)
    elif level > DEBUG or _debug:
        _writer(str(message) % args if args else str(message))


def debug(message: str, *args: object, exc_info: bool = False) -> None:
    _emit(DEBUG, message, args, exc_info)


def info(message: str, *args: object) -> None:
    _emit(INFO, message, args)


def warning(message: str, *args: object) -> None:
    _emit(WARNING, message, args)
