"""Failed logins against a real server: a guesser's address waits, growing, while the owner logs
in from theirs; spraying one address over many names is slowed; X-Forwarded-For counts only
when the plaza is told it stands behind a proxy.

The plaza under test stands behind one (pretend) proxy, ``PLAZA_PROXY_HOPS=1``: each client here
plays a different address by sending it as the proxy would, in X-Forwarded-For."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from modelplaza.auth.throttle import ADDRESS_FREE_TRIES, NAME_FREE_TRIES
from tests.plaza_server import PlazaServer, free_port, running_plaza

PASSWORD = "the-right-password"


@pytest.fixture(scope="module")
def proxied() -> Iterator[PlazaServer]:
    with running_plaza("behind-a-proxy", free_port(), PLAZA_PROXY_HOPS="1") as server:
        yield server


def new_user(plaza: PlazaServer) -> str:
    name = f"user-{uuid.uuid4().hex[:8]}"
    plaza.cli("admin", "create-user", name, "--password", PASSWORD)
    return name


@contextmanager
def browser(plaza: PlazaServer, forwarded_for: str | None = None) -> Iterator[httpx.Client]:
    """A browser with cookies and a CSRF token, whose requests carry ``forwarded_for``."""
    headers = {"Accept": "text/html"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    with httpx.Client(base_url=plaza.url, headers=headers, timeout=30) as client:
        client.get("/login").raise_for_status()
        yield client


def log_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    form = {"username": name, "password": password, "next": "/", "csrf_token": client.cookies["plaza_csrf"]}
    return client.post("/login", data=form)


def assert_refused(response: httpx.Response, seconds: int) -> None:
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(seconds)
    unit = "second" if seconds == 1 else "seconds"
    assert f"Too many failed logins from your address: try again in {seconds} {unit}." in response.text
    assert "plaza_session" not in response.headers.get("set-cookie", "")


def test_a_guesser_cannot_lock_the_owner_out(proxied):
    name = new_user(proxied)
    with browser(proxied, "203.0.113.7") as guesser:
        for _ in range(NAME_FREE_TRIES):
            assert log_in(guesser, name, "a-wrong-password").status_code == 401
        # The guesser's address now waits, even with the right password...
        assert_refused(log_in(guesser, name, PASSWORD), 1)
        assert "plaza_session" not in guesser.cookies
    # ... and cannot slip out by writing another address before the proxy's.
    with browser(proxied, "198.51.100.20, 203.0.113.7") as forged:
        assert log_in(forged, name, PASSWORD).status_code == 429
    # The owner, from their own address, logs in as usual.
    with browser(proxied, "198.51.100.20") as owner:
        assert log_in(owner, name, PASSWORD).status_code == 303
        assert "plaza_session" in owner.cookies


def test_each_further_failure_waits_longer(proxied):
    name = new_user(proxied)
    with browser(proxied, "203.0.113.8") as guesser:
        for _ in range(NAME_FREE_TRIES):
            log_in(guesser, name, "a-wrong-password")
        assert_refused(log_in(guesser, name, "a-wrong-password"), 1)
        time.sleep(1.1)  # the wait is over: one more try, then twice as long a wait
        assert log_in(guesser, name, "a-wrong-password").status_code == 401
        assert_refused(log_in(guesser, name, PASSWORD), 2)


def test_one_address_spraying_a_password_over_many_names_is_slowed(proxied):
    with browser(proxied, "192.0.2.99") as sprayer:
        for n in range(ADDRESS_FREE_TRIES):
            assert log_in(sprayer, f"name-{n}", "Summer2024!").status_code == 401
        assert_refused(log_in(sprayer, "one-more-name", "Summer2024!"), 1)
    name = new_user(proxied)
    with browser(proxied, "192.0.2.100") as someone_else:
        assert log_in(someone_else, name, PASSWORD).status_code == 303


def test_without_the_proxy_setting_x_forwarded_for_is_ignored(plaza):
    """The session's plaza is reached directly: every client here is 127.0.0.1, whatever it
    writes in X-Forwarded-For."""
    name = new_user(plaza)
    with browser(plaza, "203.0.113.50") as guesser:
        for _ in range(NAME_FREE_TRIES):
            assert log_in(guesser, name, "a-wrong-password").status_code == 401
    with browser(plaza, "198.51.100.50") as posing:
        assert log_in(posing, name, PASSWORD).status_code == 429


def test_guessing_the_current_password_on_the_settings_page_is_slowed(proxied):
    name = new_user(proxied)
    with browser(proxied, "203.0.113.30") as session:
        assert log_in(session, name, PASSWORD).status_code == 303

        def change(current: str) -> httpx.Response:
            form = {
                "current_password": current,
                "password": "a-new-password",
                "password_confirm": "a-new-password",
                "csrf_token": session.cookies["plaza_csrf"],
            }
            return session.post("/settings/password", data=form)

        for _ in range(NAME_FREE_TRIES):
            assert change("a-wrong-password").status_code == 400
        refused = change(PASSWORD)  # even the right one, until the wait is over
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert "Too many wrong passwords: try again in 1 second." in refused.text
        time.sleep(1.1)
        assert change(PASSWORD).status_code == 303
    with browser(proxied, "203.0.113.31") as fresh:
        assert log_in(fresh, name, "a-new-password").status_code == 303
