"""A scripted terminal: runs a command on a pseudo-terminal and types into it like a person.

`expect(text)` waits until `text` appears in the screen output (escape sequences removed);
`send(keys)` types. The command's stdin, stdout and stderr are the pty, which is also its
controlling terminal, so prompt_toolkit sees a real terminal and Ctrl-C behaves as typed.
"""

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>78]|\r")
DOWN = "\x1b[B"
ENTER = "\r"
CTRL_C = "\x03"


class Terminal:
    def __init__(self, command, env=None, rows=50, columns=200):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = dict(os.environ, TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
        full_env.update({key: str(value) for key, value in (env or {}).items()})

        def take_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=full_env,
                                        preexec_fn=take_terminal, close_fds=True)
        os.close(slave)
        self.raw = ""
        self.position = 0

    @property
    def text(self):
        return ANSI.sub("", self.raw)

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the command exited and closed the pty
            return None
        if not data:
            return None
        self.raw += data.decode(errors="replace")
        return True

    def expect(self, pattern, timeout=30):
        """Wait for `pattern` (a regex) after the last match; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.text, self.position)
            if match:
                self.position = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._read(min(remaining, 0.5)) is None:
                raise AssertionError(f"did not see {pattern!r}; screen so far:\n{self.text[-3000:]}")

    def send(self, keys, pause=0.15):
        time.sleep(pause)  # let the prompt draw before typing, as a person would
        os.write(self.master, keys.encode())

    def wait(self, timeout=120):
        """Read until the command exits; returns its exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._read(0.2) is None and self.process.poll() is not None:
                break
            if self.process.poll() is not None:
                while self._read(0.1):
                    pass
                break
        else:
            self.process.kill()
            raise AssertionError(f"command did not finish; screen:\n{self.text[-3000:]}")
        os.close(self.master)
        return self.process.wait()
