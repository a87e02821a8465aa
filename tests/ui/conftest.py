"""Browser tests: Playwright drives Debian's Chromium against a real plaza, as a person would.

Screenshots of the main pages go to ``test-output/screenshots/`` (``PLAZA_TEST_OUTPUT`` moves
it) so the look can be reviewed after a run."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.plaza_server import PORT, PlazaServer, running_plaza

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("PLAZA_TEST_OUTPUT", "test-output")) / "screenshots"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture(scope="session")
def plaza() -> Iterator[PlazaServer]:
    with running_plaza("ui", PORT) as server:
        for user, password in PASSWORDS.items():
            server.cli("admin", "create-user", user, "--password", password)
        server.cli("admin", "create-org", "acme", "--owner", "alice")
        server.tokens["alice"] = server.token("alice")
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, plaza: PlazaServer) -> Iterator[Page]:
    """A fresh browser profile (no cookies) for each test."""
    context = browser.new_context(base_url=plaza.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Page, user: str, password: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password or PASSWORDS[user])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot for review; the name says which page it is."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=path, full_page=True)
    return path
