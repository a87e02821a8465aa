"""Slows down password guessing: after a few failed logins for one account name, further
tries for that name are refused for a while, whatever the password. Kept in the process's
memory: enough for one server; several would share it through the database or Redis."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str) -> deque[float]:
        failures = self._failures.setdefault(name.lower(), deque())
        while failures and failures[0] <= self._clock() - WINDOW_SECONDS:
            failures.popleft()
        return failures

    def attempt(self, name: str) -> int:
        """Seconds until ``name`` may try again; or 0, and this try counts as a failure until
        ``succeeded`` forgives it. Counted before the password is checked, so that guesses
        checked at the same time (each in its own thread) stay within the limit too."""
        with self._lock:
            failures = self._recent(name)
            if len(failures) >= MAX_FAILURES:
                return max(1, int(failures[0] + WINDOW_SECONDS - self._clock()))
            failures.append(self._clock())
            return 0

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)
