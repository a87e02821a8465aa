"""Passwords and the admin commands an operator runs beside a serving plaza: ``plaza admin``
works on the plaza its ``--data-dir`` names from any directory and never creates an empty one,
takes passwords from a terminal (typed twice) or standard input, and ``set-password`` and the
settings page change them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.test_web_accounts import browser, csrf, log_in
from tests.plaza_server import BACKEND, PlazaServer
from tests.terminal import Terminal

PLAZA = [sys.executable, "-m", "modelplaza.cli.main"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def elsewhere_env(plaza: PlazaServer) -> dict[str, str]:
    """The environment of a shell that names no plaza: on SQLite the data dir alone says where
    the plaza is; PostgreSQL plazas keep their database URL."""
    env = {k: v for k, v in plaza.env.items() if k != "PLAZA_DATA_DIR"}
    if BACKEND == "sqlite":
        env.pop("PLAZA_DATABASE_URL")
    return env


def admin(
    plaza: PlazaServer, *args: str, cwd: Path, stdin: str = "", data_dir: bool = True
) -> subprocess.CompletedProcess:
    where = ["--data-dir", str(plaza.data_dir)] if data_dir else []
    return subprocess.run(
        [*PLAZA, "admin", *args, *where],
        env=elsewhere_env(plaza),
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def can_log_in(plaza: PlazaServer, user: str, password: str) -> bool:
    with browser(plaza) as client:
        return log_in(client, user, password).status_code == 303


def test_admin_commands_elsewhere_work_on_the_data_dir_and_never_create_a_plaza(plaza, tmp_path):
    name = unique("carol")
    refused = admin(plaza, "create-user", name, cwd=tmp_path, stdin="carol-password\n", data_dir=False)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: no plaza at .plaza; run `plaza serve --data-dir .plaza` first or pass --data-dir\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing was created here

    missing = tmp_path / "nowhere"
    refused = subprocess.run(
        [*PLAZA, "admin", "gc", "--dry-run"],
        env={**elsewhere_env(plaza), "PLAZA_DATA_DIR": str(missing)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and f"error: no plaza at {missing};" in refused.stderr
    assert not missing.exists()

    created = admin(plaza, "create-user", name, cwd=tmp_path, stdin="carol-password\n")
    assert created.returncode == 0, created.stderr
    assert can_log_in(plaza, name, "carol-password")
    assert list(tmp_path.iterdir()) == []


def test_create_user_refuses_an_account_without_a_password(plaza, tmp_path):
    name = unique("dave")
    for stdin, error in (
        ("", "error: no password on standard input: pipe one in, or run this on a terminal\n"),
        ("short\n", "error: Passwords need at least 8 characters\n"),
    ):
        refused = admin(plaza, "create-user", name, cwd=tmp_path, stdin=stdin)
        assert (refused.returncode, refused.stderr) == (1, error)
    both = admin(plaza, "create-user", name, "--password", "dave-password", "--password-stdin", cwd=tmp_path)
    assert both.returncode == 1 and "not both" in both.stderr
    # None of these made the account: the name is still free.
    created = admin(plaza, "create-user", name, "--password-stdin", cwd=tmp_path, stdin="dave-password\n")
    assert created.returncode == 0, created.stderr
    assert can_log_in(plaza, name, "dave-password")


def on_terminal(plaza: PlazaServer, tmp_path: Path, *args: str) -> Terminal:
    command = [*PLAZA, "admin", *args, "--data-dir", str(plaza.data_dir)]
    return Terminal(command, elsewhere_env(plaza), tmp_path)


def answer_prompts(terminal: Terminal, password: str, again: str) -> None:
    """Type ``password`` at the first prompt and ``again`` at the second."""
    terminal.expect("Password: ")
    terminal.type(password)
    terminal.expect("Password again: ")
    terminal.type(again)


def test_on_a_terminal_the_password_is_asked_for_twice_without_echo(plaza, tmp_path):
    name = unique("erin")
    differ = on_terminal(plaza, tmp_path, "create-user", name)
    answer_prompts(differ, "erin-password", "erin-passwort")
    assert differ.finish() == 1
    assert "error: the two passwords differ" in differ.output
    assert "erin-pass" not in differ.output  # typed without echo

    same = on_terminal(plaza, tmp_path, "create-user", name)
    answer_prompts(same, "erin-password", "erin-password")
    assert same.finish() == 0, same.output
    assert f"created user {name}" in same.output and "erin-pass" not in same.output
    assert can_log_in(plaza, name, "erin-password")

    change = on_terminal(plaza, tmp_path, "set-password", name)
    answer_prompts(change, "erin-new-password", "erin-new-password")
    assert change.finish() == 0, change.output
    assert can_log_in(plaza, name, "erin-new-password")
    assert not can_log_in(plaza, name, "erin-password")


def test_set_password_changes_it_and_ends_the_users_browser_logins(plaza, tmp_path):
    name = unique("frank")
    assert admin(plaza, "create-user", name, cwd=tmp_path, stdin="frank-password\n").returncode == 0
    with browser(plaza) as client:
        assert log_in(client, name, "frank-password").status_code == 303
        assert client.get("/settings/tokens").status_code == 200
        changed = admin(plaza, "set-password", name, cwd=tmp_path, stdin="frank-new-password\n")
        assert (changed.returncode, changed.stderr) == (0, f"changed the password of {name}\n")
        assert client.get("/settings/tokens").headers["location"].startswith("/login")
    assert can_log_in(plaza, name, "frank-new-password")
    assert not can_log_in(plaza, name, "frank-password")
    unknown = admin(plaza, "set-password", unique("nobody"), cwd=tmp_path, stdin="some-password\n")
    assert unknown.returncode == 1 and "error: No user or organisation named" in unknown.stderr


@pytest.fixture
def grace(plaza, tmp_path) -> tuple[str, str]:
    name = unique("grace")
    assert admin(plaza, "create-user", name, cwd=tmp_path, stdin="grace-password\n").returncode == 0
    return name, "grace-password"


def change(client, current: str, new: str, again: str | None = None):
    form = {
        "current_password": current,
        "password": new,
        "password_confirm": new if again is None else again,
        "csrf_token": csrf(client),
    }
    return client.post("/settings/password", data=form)


def test_the_settings_page_changes_the_password_and_logs_out_other_browsers(plaza, grace):
    name, password = grace
    with browser(plaza) as here, browser(plaza) as other:
        assert log_in(here, name, password).status_code == 303
        assert log_in(other, name, password).status_code == 303
        page = here.get("/settings/password")
        assert page.status_code == 200 and "autocomplete=current-password" in page.text

        wrong = change(here, "not-my-password", "grace-new-password")
        assert wrong.status_code == 400 and "That is not your current password." in wrong.text
        differ = change(here, password, "grace-new-password", "grace-other-password")
        assert differ.status_code == 400 and "The two new passwords differ." in differ.text
        short = change(here, password, "short")
        assert short.status_code == 400 and "Passwords need at least 8 characters" in short.text
        assert other.get("/settings/tokens").status_code == 200  # nothing changed so far

        done = change(here, password, "grace-new-password")
        assert (done.status_code, done.headers["location"]) == (303, "/settings/password")
        notice = here.get("/settings/password")
        assert "Password changed and 1 other login ended." in notice.text
        assert here.get("/settings/tokens").status_code == 200  # this browser stays logged in
        assert other.get("/settings/tokens").headers["location"].startswith("/login")
    assert can_log_in(plaza, name, "grace-new-password")
    assert not can_log_in(plaza, name, password)


def test_changing_a_password_needs_a_login_and_the_forms_csrf_token(plaza, grace):
    name, password = grace
    with browser(plaza) as client:
        assert client.get("/settings/password").headers["location"] == "/login?next=%2Fsettings%2Fpassword"
        assert change(client, password, "grace-new-password").status_code == 401
        assert log_in(client, name, password).status_code == 303
        form = {"current_password": password, "password": "x" * 12, "password_confirm": "x" * 12}
        assert client.post("/settings/password", data=form).status_code == 403
    assert can_log_in(plaza, name, password)
