"""Typed errors raised by library code; `cli.run` maps them to the contract's exit codes.

Library code never prints, exits or prompts: it raises one of these, and the single
error boundary in `ds01common.cli.run` turns it into one line on stderr and an exit code.
"""

from collections.abc import Iterable

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_PERMISSION = 4
EXIT_INTERRUPTED = 130


class Ds01Error(Exception):
    """Bad input, a Docker or NVML failure, something not found: exit 1."""

    exit_code = EXIT_ERROR


class NotFound(Ds01Error):
    """A named container, image, user or slot does not exist."""


class UsageError(Ds01Error):
    """The command line cannot be acted on (for example a prompt with no terminal): exit 2."""

    exit_code = EXIT_USAGE


class ResourcesUnavailable(Ds01Error):
    """A quota is reached, no GPU is free, or the container limit is hit: exit 3."""

    exit_code = EXIT_UNAVAILABLE


class PermissionDenied(Ds01Error):
    """The caller may not do this: exit 4."""

    exit_code = EXIT_PERMISSION


class DockerUnavailable(Ds01Error):
    """The Docker engine cannot be reached."""


class StateCorrupt(Ds01Error):
    """A state file exists but cannot be parsed."""


class LockTimeout(Ds01Error):
    """A state lock could not be taken in time; we never go on without it."""


class ConfigError(Ds01Error):
    """The config file has one or more problems; all of them are listed."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        # One problem fits on one line (contract section 8); several are listed below a heading.
        if len(self.problems) == 1:
            super().__init__(f"invalid config: {self.problems[0]}")
        else:
            super().__init__("invalid config:\n  " + "\n  ".join(self.problems))
