"""Password guessing is slowed per account name, and forgiven after the window or a success."""

from concurrent.futures import ThreadPoolExecutor

from modelplaza.auth.throttle import MAX_FAILURES, WINDOW_SECONDS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_refused_after_repeated_failures_until_the_window_passes():
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(MAX_FAILURES):
        assert throttle.attempt("Alice") == 0
    assert throttle.attempt("ALICE") == WINDOW_SECONDS
    assert throttle.attempt("bob") == 0  # other names are not affected
    clock.now += WINDOW_SECONDS - 60
    assert throttle.attempt("alice") == 60  # a refused try does not count
    clock.now += 61
    assert throttle.attempt("alice") == 0


def test_a_successful_login_forgives_earlier_failures():
    throttle = LoginThrottle(Clock())
    for _ in range(MAX_FAILURES - 1):
        throttle.attempt("alice")
    throttle.succeeded("alice")
    for _ in range(MAX_FAILURES):
        assert throttle.attempt("alice") == 0


def test_tries_checked_at_the_same_time_stay_within_the_limit():
    throttle = LoginThrottle(Clock())
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(throttle.attempt, ["alice"] * 4 * MAX_FAILURES))
    assert waits.count(0) == MAX_FAILURES
