"""Password guessing is slowed per (name, address) and per address, with growing waits that
cannot be aimed at an account's owner, in bounded memory."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelplaza.auth.throttle import (
    ADDRESS_FREE_TRIES,
    FORGET_AFTER,
    MAX_WAIT,
    NAME_FREE_TRIES,
    LoginThrottle,
    address_key,
    wait_after,
)

GUESSER = "203.0.113.7"
OWNER = "198.51.100.20"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock) -> LoginThrottle:
    return LoginThrottle(clock)


def fail(throttle: LoginThrottle, times: int, name: str = "alice", address: str = GUESSER) -> None:
    for _ in range(times):
        assert throttle.attempt(name, address) == 0


def test_waits_grow_from_one_second_and_stop_at_a_minute():
    waits = [wait_after(n, 5) for n in range(1, 16)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, MAX_WAIT, MAX_WAIT, MAX_WAIT, MAX_WAIT, MAX_WAIT]
    assert wait_after(10**6, 5) == MAX_WAIT


def test_a_guessed_pair_waits_longer_after_each_failure_until_its_wait_passes(throttle, clock):
    fail(throttle, NAME_FREE_TRIES)
    assert throttle.attempt("ALICE", GUESSER) == 1  # names count regardless of case
    clock.now += 1
    assert throttle.attempt("alice", GUESSER) == 0  # a sixth failure
    assert throttle.attempt("alice", GUESSER) == 2
    clock.now += 1.5
    assert throttle.attempt("alice", GUESSER) == 0.5  # a refused try is not counted
    clock.now += 0.5
    assert throttle.attempt("alice", GUESSER) == 0
    assert throttle.attempt("alice", GUESSER) == 4


def test_the_owner_logs_in_from_another_address_while_the_guesser_waits(throttle):
    fail(throttle, NAME_FREE_TRIES)
    assert throttle.attempt("alice", GUESSER) > 0
    assert throttle.attempt("alice", OWNER) == 0
    throttle.succeeded("alice", OWNER)
    assert throttle.attempt("alice", GUESSER) > 0  # the guesser's wait stands
    assert throttle.attempt("bob", GUESSER) == 0  # other names from that address are not held up yet


def test_even_the_right_password_waits_out_the_pair_and_then_starts_it_afresh(throttle, clock):
    fail(throttle, NAME_FREE_TRIES)
    wait = throttle.attempt("alice", GUESSER)
    assert wait > 0  # refused before any password is checked
    clock.now += wait
    assert throttle.attempt("alice", GUESSER) == 0
    throttle.succeeded("alice", GUESSER)
    fail(throttle, NAME_FREE_TRIES)


def test_one_address_spraying_many_names_is_slowed(throttle, clock):
    for n in range(ADDRESS_FREE_TRIES):
        assert throttle.attempt(f"user{n}", GUESSER) == 0
    assert throttle.attempt("someone-new", GUESSER) == 1
    assert throttle.attempt("someone-new", OWNER) == 0  # other addresses are not
    clock.now += 1
    assert throttle.attempt("someone-else", GUESSER) == 0
    assert throttle.attempt("and-another", GUESSER) == 2


def test_logging_in_to_ones_own_account_does_not_clear_an_address_s_guesses(throttle, clock):
    for n in range(ADDRESS_FREE_TRIES + 2):
        clock.now += MAX_WAIT
        assert throttle.attempt(f"user{n}", GUESSER) == 0
    clock.now += 4  # the last wait (4 s) has passed
    assert throttle.attempt("mallory", GUESSER) == 0
    throttle.succeeded("mallory", GUESSER)  # her own account: her try is taken back, no more
    assert throttle.attempt("victim", GUESSER) == 0
    assert throttle.attempt("victim2", GUESSER) == 8


def test_counters_are_forgotten_after_a_quiet_while(throttle, clock):
    fail(throttle, NAME_FREE_TRIES)
    assert throttle.attempt("alice", GUESSER) > 0
    clock.now += FORGET_AFTER
    fail(throttle, NAME_FREE_TRIES)  # afresh: no waits before the free tries are used up
    assert throttle.tracked() == (1, 1)


def test_memory_stays_bounded_whatever_names_and_addresses_are_tried(clock):
    throttle = LoginThrottle(clock, max_tracked=100)
    for n in range(1000):
        clock.now += 0.001
        throttle.attempt(f"name{n}" + "x" * 10_000, f"10.0.{n // 256}.{n % 256}")
    assert throttle.tracked() == (100, 100)
    # The most recently tried are kept: the newest guesser still waits.
    fail(throttle, NAME_FREE_TRIES, "alice", "10.9.9.9")
    assert throttle.attempt("alice", "10.9.9.9") > 0


def test_addresses_of_one_ipv6_block_count_together(throttle):
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    for n in range(NAME_FREE_TRIES):
        assert throttle.attempt("alice", f"2001:db8:1:2::{n + 1:x}") == 0
    assert throttle.attempt("alice", "2001:db8:1:2::abcd") > 0
    assert throttle.attempt("alice", "2001:db8:1:3::1") == 0


def test_tries_checked_at_the_same_time_stay_within_the_limit(throttle):
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda _: throttle.attempt("alice", GUESSER), range(4 * NAME_FREE_TRIES)))
    assert waits.count(0) == NAME_FREE_TRIES


def test_a_wait_runs_from_when_the_failure_is_known(throttle, clock):
    fail(throttle, NAME_FREE_TRIES)
    clock.now += 0.8  # the last password check took that long
    throttle.failed("alice", GUESSER)
    clock.now += 0.5
    assert throttle.attempt("alice", GUESSER) == 0.5
