"""The one module that runs other programs (git, ssh-keygen, systemctl, write, …)."""

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence

from .errors import Ds01Error


def which(program: str) -> str | None:
    import shutil  # lazy: most commands never look a program up

    return shutil.which(program)


def run(command: Sequence[str], check: bool = True, capture: bool = True, input: str | None = None,  # noqa: A002
        cwd: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
        timeout: float | None = None, user: str | int | None = None) -> subprocess.CompletedProcess[str]:
    """Run `command` (a list); returns CompletedProcess. A failure is one-line Ds01Error when `check`."""
    try:
        result = subprocess.run(command, check=False, capture_output=capture, text=True, input=input,
                                cwd=cwd, env=env, timeout=timeout, user=user)
    except FileNotFoundError:
        raise Ds01Error(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise Ds01Error(f"{command[0]} did not finish within {timeout}s") from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines() if capture else []
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise Ds01Error(f"{' '.join(command[:2])} failed: {reason}")
    return result


def run_passing_through(command: Sequence[str], drop_from_stderr: Callable[[str], bool],
                        env: Mapping[str, str] | None = None, user: str | int | None = None) -> int:
    """Run `command` with stdin and stdout passed straight through and stderr copied line by
    line, leaving out the lines `drop_from_stderr` says are a wrapper's own chatter (srun's
    "task 0: Exited with exit code N" after a command that failed). Returns the exit status."""
    try:
        child = subprocess.Popen(list(command), stderr=subprocess.PIPE, env=env, user=user)
    except FileNotFoundError:
        raise Ds01Error(f"{command[0]} is not installed") from None
    assert child.stderr is not None
    for raw in child.stderr:
        if not drop_from_stderr(raw.decode(errors="replace").rstrip("\n")):
            sys.stderr.buffer.write(raw)
            sys.stderr.buffer.flush()
    return child.wait()
