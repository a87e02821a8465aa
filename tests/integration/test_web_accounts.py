"""The account pages as HTTP sees them: what a browser test cannot easily show (cookies, CSRF,
redirect targets, refused requests changing nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.plaza_server import PlazaServer, free_port, running_plaza

HTML = {"Accept": "text/html"}
LOGIN_ERROR = "Incorrect username or password."


@contextmanager
def browser(plaza: PlazaServer) -> Iterator[httpx.Client]:
    """A client that keeps cookies, as a browser does, and holds a CSRF cookie."""
    with httpx.Client(base_url=plaza.url, headers=HTML, timeout=30) as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert f'name="csrf_token" value="{client.cookies["plaza_csrf"]}"' in page.text
        yield client


def csrf(client: httpx.Client) -> str:
    return client.cookies["plaza_csrf"]


def log_in(client: httpx.Client, user: str, password: str | None = None, next: str = "/") -> httpx.Response:
    form = {
        "username": user,
        "password": password or f"{user}-password",
        "next": next,
        "csrf_token": csrf(client),
    }
    return client.post("/login", data=form)


@pytest.fixture
def alice(plaza: PlazaServer) -> Iterator[httpx.Client]:
    with browser(plaza) as client:
        assert log_in(client, "alice").status_code == 303
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_session_cookie_is_httponly_and_logging_out_ends_it(plaza):
    with browser(plaza) as client:
        response = log_in(client, "alice", next="/settings/tokens")
        assert response.status_code == 303
        assert response.headers["location"] == "/settings/tokens"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("plaza_session="))
        assert "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        secret = client.cookies["plaza_session"]
        assert client.get("/settings/tokens").status_code == 200

        assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 303
        assert "plaza_session" not in client.cookies

        # Replaying the old cookie (say, copied before logging out) no longer logs anyone in.
        client.cookies.set("plaza_session", secret)
        response = client.get("/settings/tokens")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_wrong_password_and_unknown_user_give_the_same_error_and_no_cookie(plaza):
    with browser(plaza) as client:
        for user, password in (("alice", "not-her-password"), ("nobody-at-all", "whatever-password")):
            response = log_in(client, user, password)
            assert response.status_code == 401
            assert LOGIN_ERROR in response.text
            assert "plaza_session" not in response.headers.get("set-cookie", "")
        assert "plaza_session" not in client.cookies


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leads_to_another_site(plaza, target):
    with browser(plaza) as client:
        assert log_in(client, "bob", next=target).headers["location"] == "/"
        assert client.get("/login", params={"next": target}).headers["location"] == "/"


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(plaza, alice):
    name = unique("forged")
    forged = alice.post("/settings/tokens", data={"name": name, "scope": "write"})
    assert forged.status_code == 403
    assert "did not come from this site" in forged.text
    assert (
        alice.post("/settings/organizations", data={"name": name, "csrf_token": "guess"}).status_code == 403
    )
    assert alice.post("/logout").status_code == 403

    page = alice.get("/settings/tokens")
    assert page.status_code == 200  # still logged in
    assert name not in page.text
    assert alice.get(f"/{name}").status_code == 404

    # A login form posted from elsewhere does not log the browser in either.
    with httpx.Client(base_url=plaza.url, headers=HTML) as stranger:
        response = stranger.post("/login", data={"username": "alice", "password": "alice-password"})
        assert response.status_code == 403
        assert "plaza_session" not in stranger.cookies


def test_tokens_are_shown_once_record_their_use_and_can_be_revoked(plaza, alice):
    name = unique("tok")
    response = alice.post("/settings/tokens", data={"name": name, "scope": "read", "csrf_token": csrf(alice)})
    assert response.status_code == 303
    page = alice.get("/settings/tokens").text
    token = page.split("<pre><code>")[1].split("</code>")[0]
    assert token.startswith("plz_")
    assert "never" in page
    again = alice.get("/settings/tokens").text
    assert token not in again and name in again

    info = HfApi(endpoint=plaza.url, token=token).whoami()
    assert info["name"] == "alice"
    assert info["auth"]["accessToken"] == {"displayName": name, "role": "read"}
    row = alice.get("/settings/tokens").text.split(name)[1].split("</tr>")[0]
    assert "just now" in row

    token_id = row.split("/settings/tokens/")[1].split("/revoke")[0]
    with browser(plaza) as bob:
        assert log_in(bob, "bob").status_code == 303
        # Someone else's token is not theirs to revoke.
        assert (
            bob.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf(bob)}).status_code == 404
        )
    HfApi(endpoint=plaza.url, token=token).whoami()
    assert (
        alice.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf(alice)}).status_code == 303
    )
    page = alice.get("/settings/tokens").text
    assert f"Token “{name}” revoked" in page
    assert f'aria-label="Revoke {name}"' not in page
    with pytest.raises(HfHubHTTPError, match="Invalid user token"):
        HfApi(endpoint=plaza.url, token=token).whoami()


def test_token_needs_a_name(alice):
    response = alice.post(
        "/settings/tokens", data={"name": "  ", "scope": "write", "csrf_token": csrf(alice)}
    )
    assert response.status_code == 400
    assert "Give the token a name" in response.text
    assert "plaza_new_token" not in response.headers.get("set-cookie", "")


def test_settings_need_a_login(plaza):
    with browser(plaza) as client:
        response = client.get("/settings/organizations/acme")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fsettings%2Forganizations%2Facme"
        refused = client.post("/settings/tokens", data={"name": "x", "csrf_token": csrf(client)})
        assert refused.status_code == 401


def test_only_org_admins_manage_members(plaza, alice):
    with browser(plaza) as bob:  # bob writes to acme but does not administer it
        assert log_in(bob, "bob").status_code == 303
        assert bob.get("/settings/organizations/acme").status_code == 403
        form = {"name": "bob", "role": "admin", "csrf_token": csrf(bob)}
        assert bob.post("/settings/organizations/acme/members", data=form).status_code == 403
        assert bob.post("/settings/organizations/acme/members/alice/remove", data=form).status_code == 403
        assert bob.get("/settings/organizations/no-such-org").status_code == 404
        assert bob.get("/settings/organizations/alice").status_code == 404  # a user, not an org
    page = alice.get("/settings/organizations/acme").text
    assert "<option selected>write</option>" in page.split('value="bob"')[1]


def test_org_keeps_an_admin_and_rejects_unknown_members(alice):
    org = unique("org")
    token = csrf(alice)
    response = alice.post("/settings/organizations", data={"name": org, "csrf_token": token})
    assert response.headers["location"] == f"/settings/organizations/{org}"
    demote = alice.post(
        f"/settings/organizations/{org}/members", data={"name": "alice", "role": "write", "csrf_token": token}
    )
    assert demote.status_code == 400
    assert "needs at least one admin" in demote.text
    leave = alice.post(f"/settings/organizations/{org}/members/alice/remove", data={"csrf_token": token})
    assert leave.status_code == 400
    unknown = alice.post(
        f"/settings/organizations/{org}/members",
        data={"name": "ghost-user", "role": "read", "csrf_token": token},
    )
    assert unknown.status_code == 404
    assert "No user or organisation named" in unknown.text
    bad_role = alice.post(
        f"/settings/organizations/{org}/members", data={"name": "bob", "role": "owner", "csrf_token": token}
    )
    assert bad_role.status_code == 400
    # With a second admin, alice may step down; she is then sent back to her list of orgs.
    alice.post(
        f"/settings/organizations/{org}/members", data={"name": "bob", "role": "admin", "csrf_token": token}
    )
    demote = alice.post(
        f"/settings/organizations/{org}/members", data={"name": "alice", "role": "read", "csrf_token": token}
    )
    assert demote.headers["location"] == "/settings/organizations"
    assert alice.get(f"/settings/organizations/{org}").status_code == 403
    taken = alice.post("/settings/organizations", data={"name": org, "csrf_token": token})
    assert taken.status_code == 409


def sign_up(client: httpx.Client, **fields: str) -> httpx.Response:
    password = fields.pop("password", "a-long-password")
    form = {
        "email": "new@example.org",
        "password": password,
        "password_confirm": password,
        "csrf_token": csrf(client),
    }
    return client.post("/join", data={**form, **fields})


def test_sign_up_logs_in_and_bad_input_is_explained(plaza):
    name = unique("newbie")
    with browser(plaza) as client:
        cases = {
            "The two passwords differ.": (400, {"name": name, "password_confirm": "something-else"}),
            "Enter an email address": (400, {"name": name, "email": "not-an-email"}),
            "at least 8 characters": (400, {"name": name, "password": "short"}),
            "reserved for the plaza": (400, {"name": "settings"}),
            "already taken": (409, {"name": "alice"}),
            "already taken by &#39;alice&#39;": (409, {"name": "ALICE"}),
            "Invalid account name": (400, {"name": "bad name!"}),
        }
        for message, (status, fields) in cases.items():
            response = sign_up(client, **fields)
            assert response.status_code == status, message
            assert message in response.text
        assert client.get(f"/{name}").status_code == 404

        response = sign_up(client, name=name, fullname="New Person", next="/settings/tokens")
        assert response.status_code == 303
        assert response.headers["location"] == "/settings/tokens"
        assert "plaza_session" in client.cookies
        profile = client.get(f"/{name}")
        assert "New Person" in profile.text
    with browser(plaza) as client:
        assert log_in(client, name, "a-long-password").status_code == 303


def test_profiles_show_only_visible_repos(plaza, api, repo_name):
    api.create_repo(f"alice/{repo_name}-secret", private=True)
    api.create_repo(f"alice/{repo_name}-open")
    with httpx.Client(base_url=plaza.url, headers=HTML) as anonymous:
        page = anonymous.get("/alice").text
        assert f"{repo_name}-open" in page and f"{repo_name}-secret" not in page
        assert "acme" in page  # her organisations
        assert anonymous.get("/acme").status_code == 200
        assert anonymous.get("/no-such-account").status_code == 404
    with browser(plaza) as bob:
        assert log_in(bob, "bob").status_code == 303
        assert f"{repo_name}-secret" not in bob.get("/alice").text


def test_owners_see_their_private_repos_on_their_profile(api, alice, repo_name):
    api.create_repo(f"alice/{repo_name}", repo_type="dataset", private=True)
    page = alice.get("/alice").text
    card = page.split(f"/datasets/alice/{repo_name}")[1].split("</article>")[0]
    assert "private" in card


@pytest.fixture(scope="module")
def closed_plaza() -> Iterator[PlazaServer]:
    with running_plaza("no-signup", free_port(), PLAZA_ALLOW_SIGNUP="0") as server:
        yield server


def test_sign_up_can_be_turned_off(closed_plaza):
    with browser(closed_plaza) as client:
        page = client.get("/join")
        assert page.status_code == 403
        assert "Sign-up is closed" in page.text
        assert 'href="/join"' not in client.get("/").text
        assert 'href="/join' not in client.get("/login").text
        refused = sign_up(client, name="sneaky")
        assert refused.status_code == 403
        assert "plaza_session" not in client.cookies
        assert client.get("/sneaky").status_code == 404


def test_a_logged_in_browser_downloads_private_files_but_cannot_write_through_the_api(plaza, alice):
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    repo_id = f"alice/{unique('private')}"
    api.create_repo(repo_id, private=True)
    api.upload_file(path_or_fileobj=b"secret weights", path_in_repo="w.txt", repo_id=repo_id)
    url = f"/{repo_id}/resolve/main/w.txt"

    assert alice.get(url).content == b"secret weights"
    with httpx.Client(base_url=plaza.url) as stranger:
        assert stranger.get(url).status_code == 404

    # The login cookie reads only: a write, or a write token for Xet, still needs a bearer token.
    assert alice.get(f"/api/models/{repo_id}/xet-write-token/main").status_code == 403
    created = alice.post("/api/repos/create", json={"name": unique("forged"), "organization": "alice"})
    assert created.status_code == 401
    assert api.file_exists(repo_id, "w.txt")
