"""Slows down password guessing without letting anyone lock an account.

Failed logins are counted twice: per account name *and client address*, and per client address
over all names. Each counter lets a few failures through, then makes every further one wait
longer before the next try (1 s, 2 s, 4 s ... at most a minute). So a guesser's address soon
waits a minute between guesses while the owner, from their own address, logs in as usual, and
one password sprayed over many names is slowed by the address's counter. A wait means "refused
until then": nothing sleeps. A counter is forgotten after a quarter of an hour without tries.

Counters live in this process's memory, at most ``MAX_TRACKED`` of each kind (the least recently
tried go first), so no stream of new names or addresses grows it without bound. Several server
processes would each count on their own: a guesser would get that many more tries, until the
counters move to a store they share."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

NAME_FREE_TRIES = 5
ADDRESS_FREE_TRIES = 20
FIRST_WAIT = 1.0
MAX_WAIT = 60.0
FORGET_AFTER = 15 * 60.0
MAX_TRACKED = 50_000
# Longer names cannot exist (names.py): they all share one counter per address.
_NAME_KEY_LENGTH = 100


def wait_after(failures: int, free_tries: int) -> float:
    """How long a counter waits after ``failures`` failed tries: nothing while they are fewer
    than ``free_tries``, then 1 s, doubling with each further failure, at most ``MAX_WAIT``."""
    over = failures - free_tries
    return 0.0 if over < 0 else min(MAX_WAIT, FIRST_WAIT * 2 ** min(over, 16))


def retry_in(wait: float) -> tuple[int, str]:
    """A wait as whole seconds (for ``Retry-After``) and as words ("try again in 3 seconds")."""
    seconds = math.ceil(wait)
    return seconds, f"try again in {seconds} {'second' if seconds == 1 else 'seconds'}"


def address_key(address: str) -> str:
    """Whom an address counts for: an IPv6 address for its /64 (one subscriber's block, which
    a guesser can walk), an IPv4 (or IPv4-mapped) address for itself."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:_NAME_KEY_LENGTH]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Counter:
    failures: int = 0
    # Tries before this time are refused; ``previous`` is what it was before the last try.
    until: float = 0.0
    previous: float = 0.0
    last_try: float = 0.0


class _Counters:
    """Counters by key, least recently tried first, forgotten when quiet or crowded out."""

    def __init__(self, free_tries: int, max_tracked: int) -> None:
        self.free_tries = free_tries
        self.max_tracked = max_tracked
        self._by_key: OrderedDict[str, _Counter] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_key)

    def _forget_quiet(self, now: float) -> None:
        # Kept in order of their last try: the quiet ones are at the front.
        while self._by_key and next(iter(self._by_key.values())).last_try <= now - FORGET_AFTER:
            self._by_key.popitem(last=False)

    def wait(self, key: str, now: float) -> float:
        counter = self._by_key.get(key)
        return 0.0 if counter is None else max(0.0, counter.until - now)

    def count(self, key: str, now: float) -> None:
        self._forget_quiet(now)
        counter = self._by_key.pop(key, None) or _Counter()
        self._by_key[key] = counter  # Now the most recently tried.
        counter.failures += 1
        counter.previous, counter.until = counter.until, now + wait_after(counter.failures, self.free_tries)
        counter.last_try = now
        if len(self._by_key) > self.max_tracked:
            self._by_key.popitem(last=False)

    def restart_wait(self, key: str, now: float) -> None:
        """Let the wait run from ``now``, when the try it follows was found to fail."""
        counter = self._by_key.get(key)
        if counter is not None:
            counter.until = max(counter.until, now + wait_after(counter.failures, self.free_tries))

    def take_back(self, key: str) -> None:
        """Uncount the last try: it did not fail after all."""
        counter = self._by_key.get(key)
        if counter is not None and counter.failures:
            counter.failures -= 1
            counter.until = counter.previous

    def forget(self, key: str) -> None:
        self._by_key.pop(key, None)


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED) -> None:
        self._clock = clock
        self._pairs = _Counters(NAME_FREE_TRIES, max_tracked)
        self._addresses = _Counters(ADDRESS_FREE_TRIES, max_tracked)
        self._lock = threading.Lock()

    @staticmethod
    def _pair(name: str, address: str) -> str:
        return f"{address_key(address)} {name.lower()[:_NAME_KEY_LENGTH]}"

    def attempt(self, name: str, address: str) -> float:
        """Seconds until ``name`` may be tried from ``address`` again (this try is refused,
        whatever its password, and not counted); or 0, and this try counts as a failure until
        ``succeeded`` forgives it (call ``failed`` otherwise). Counted before the password is checked, so that guesses
        checked at the same time (each in its own thread) stay within the limits too."""
        pair, address = self._pair(name, address), address_key(address)
        with self._lock:
            now = self._clock()
            wait = max(self._pairs.wait(pair, now), self._addresses.wait(address, now))
            if wait > 0:
                return wait
            self._pairs.count(pair, now)
            self._addresses.count(address, now)
            return 0.0

    def failed(self, name: str, address: str) -> None:
        """The try for ``name`` from ``address`` had a wrong password: its waits run from now,
        not from when the (slow) password check began."""
        with self._lock:
            now = self._clock()
            self._pairs.restart_wait(self._pair(name, address), now)
            self._addresses.restart_wait(address_key(address), now)

    def succeeded(self, name: str, address: str) -> None:
        """The try for ``name`` from ``address`` had the right password: that pair starts
        afresh, and the address's counter forgets this try but not its earlier failures (so
        logging in to one's own account does not clear a record of guesses at others)."""
        with self._lock:
            self._pairs.forget(self._pair(name, address))
            self._addresses.take_back(address_key(address))

    def tracked(self) -> tuple[int, int]:
        """How many (name, address) pairs and addresses are counted now."""
        with self._lock:
            return len(self._pairs), len(self._addresses)
