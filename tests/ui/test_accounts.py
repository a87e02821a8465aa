"""Accounts in the browser: signing up, logging in and out, access tokens, organisation members
and profile pages."""

from __future__ import annotations

import re
import uuid

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from playwright.sync_api import Page, expect

from tests.ui.conftest import log_in, screenshot


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_sign_up_log_out_and_log_in_again(page: Page):
    name = unique("ada")
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create your ModelPlaza account")).to_be_visible()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Full name (optional)").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill("analytical-engine")
    page.get_by_label("Confirm password").fill("analytical-engin")
    screenshot(page, "join")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(name)

    page.get_by_label("Password", exact=True).fill("analytical-engine")
    page.get_by_label("Confirm password").fill("analytical-engine")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_have_text(f"Welcome to ModelPlaza, {name}!")
    expect(page.get_by_role("button", name="Account menu")).to_have_text(name)
    log_out(page)

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    screenshot(page, "login")
    log_in(page, name, "analytical-engine")
    page.goto(f"/{name}")
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()


def test_log_in_returns_to_the_page_asked_for(page: Page):
    page.goto("/settings/organizations")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsettings%2Forganizations$"))
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()


def test_write_token_is_shown_once_works_and_can_be_revoked(page: Page, plaza):
    log_in(page, "alice")
    page.goto("/settings/tokens")
    name = unique("laptop")
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Write").check()
    page.get_by_role("button", name="Create token").click()
    once = page.get_by_role("region", name="Your new token")
    expect(once).to_contain_text("it will not be shown again")
    expect(once.get_by_role("button", name="Copy token")).to_be_visible()
    token = once.locator("code").first.inner_text()
    assert token.startswith("plz_")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("write")
    expect(row).to_contain_text("never")
    screenshot(page, "tokens")

    page.reload()
    expect(page.get_by_role("region", name="Your new token")).to_have_count(0)
    assert token not in page.content()

    assert HfApi(endpoint=plaza.url, token=token).whoami()["name"] == "alice"
    page.reload()
    expect(row).to_contain_text("just now")
    page.get_by_role("button", name=f"Revoke {name}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Token “{name}” revoked")
    expect(row).to_have_count(0)
    with pytest.raises(HfHubHTTPError):
        HfApi(endpoint=plaza.url, token=token).whoami()


def test_org_admin_adds_changes_and_removes_a_member(page: Page):
    log_in(page, "alice")
    page.goto("/settings/organizations")
    expect(page.get_by_role("row").filter(has_text="acme")).to_contain_text("admin")
    page.get_by_role("link", name="Manage members of acme").click()
    expect(page.get_by_role("heading", name="Members of acme")).to_be_visible()

    page.get_by_label("Username").fill("bob")
    page.get_by_label("Role", exact=True).select_option("write")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_have_text("bob is now a member of acme with the write role.")
    expect(page.get_by_role("combobox", name="Role of bob")).to_have_value("write")
    screenshot(page, "org-members")

    page.get_by_role("combobox", name="Role of bob").select_option("admin")
    page.get_by_role("button", name="Save role of bob").click()
    expect(page.get_by_role("combobox", name="Role of bob")).to_have_value("admin")

    page.get_by_role("button", name="Remove bob").click()
    expect(page.get_by_role("status")).to_have_text("bob is no longer a member of acme.")
    expect(page.get_by_role("combobox", name="Role of bob")).to_have_count(0)

    page.get_by_label("Username").fill("nobody-by-that-name")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("alert")).to_contain_text("No user or organisation named")


def test_anyone_can_create_an_organisation(page: Page):
    org = unique("lab")
    log_in(page, "bob")
    page.goto("/settings/organizations")
    page.get_by_label("Organisation name").fill(org)
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_role("heading", name=f"Members of {org}")).to_be_visible()
    expect(page.get_by_role("combobox", name="Role of bob")).to_have_value("admin")
    page.get_by_role("link", name=org, exact=True).click()
    expect(page.get_by_text("Organisation", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Members").get_by_role("link", name="bob")).to_be_visible()


def test_profiles_show_each_visitor_the_repos_they_may_see(page: Page, plaza):
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    public, secret, data = unique("open-model"), unique("secret-model"), unique("table")
    api.create_repo(f"alice/{public}")
    api.create_repo(f"alice/{secret}", private=True)
    api.create_repo(f"alice/{data}", repo_type="dataset")

    log_in(page, "alice")
    page.goto(f"/datasets/alice/{data}")
    page.get_by_role("button", name=re.compile("^Like;")).click()
    expect(page.get_by_role("button", name=re.compile("^Unlike;"))).to_be_visible()
    page.goto("/alice")
    card = page.get_by_role("article").filter(has_text=secret)
    expect(card.get_by_text("private")).to_be_visible()
    screenshot(page, "profile")
    log_out(page)

    page.goto("/alice")
    models = page.get_by_role("region", name=re.compile("^Models"))
    expect(models.get_by_role("link", name=f"alice/{public}")).to_be_visible()
    datasets = page.get_by_role("region", name=re.compile("^Datasets"))
    expect(datasets.get_by_role("link", name=f"alice/{data}")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(page.get_by_role("region", name="Organisations").get_by_role("link", name="acme")).to_be_visible()
    page.get_by_role("link", name="Likes").click()
    expect(page.get_by_role("link", name="Likes")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name=f"alice/{data}")).to_be_visible()
    expect(page.get_by_role("link", name=f"alice/{public}")).to_have_count(0)

    log_in(page, "bob")
    page.goto("/alice")
    expect(page.get_by_role("link", name=f"alice/{public}")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)

    response = page.goto("/no-such-account-here")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
