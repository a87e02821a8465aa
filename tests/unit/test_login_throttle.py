"""Password guessing is slowed per account name, and forgiven after the window or a success."""

from modelplaza.auth.throttle import MAX_FAILURES, WINDOW_SECONDS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_refused_after_repeated_failures_until_the_window_passes():
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(MAX_FAILURES - 1):
        throttle.failed("Alice")
    assert throttle.retry_after("alice") == 0
    throttle.failed("alice")
    assert throttle.retry_after("ALICE") == WINDOW_SECONDS
    assert throttle.retry_after("bob") == 0  # other names are not affected
    clock.now += WINDOW_SECONDS - 60
    assert throttle.retry_after("alice") == 60
    clock.now += 61
    assert throttle.retry_after("alice") == 0


def test_a_successful_login_forgives_earlier_failures():
    throttle = LoginThrottle(Clock())
    for _ in range(MAX_FAILURES - 1):
        throttle.failed("alice")
    throttle.succeeded("alice")
    throttle.failed("alice")
    assert throttle.retry_after("alice") == 0
