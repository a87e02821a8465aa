"""A command run on a terminal of its own (a pseudo-terminal), as a person at a shell runs it:
what it prints there, and what is typed into it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from pathlib import Path


class Terminal:
    """A command on a terminal of its own (a pseudo-terminal), as a person at a shell runs it."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, columns: int = 100) -> None:
        self.master, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.process = subprocess.Popen(
            args, stdin=child, stdout=child, stderr=child, env=env, cwd=cwd, start_new_session=True
        )
        os.close(child)
        self.output = ""

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"never saw {text!r} in {self.output!r}")
            try:
                self.output += os.read(self.master, 4096).decode()
            except OSError:  # the command ended and closed the terminal
                raise AssertionError(f"never saw {text!r} in {self.output!r}") from None

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        try:
            while chunk := os.read(self.master, 4096):
                self.output += chunk.decode()
        except OSError:
            pass
        os.close(self.master)
        return code
