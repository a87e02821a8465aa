"""The model and dataset lists in a browser: search the cards, filter from the sidebar, sort,
turn pages, with and without JavaScript, and never see someone else's private repo."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import log_in, screenshot


@dataclass
class Shelf:
    word: str  # in every repo id
    prose: str  # only in the prose of the text model's and the secret's cards
    vision: str
    text: str
    speech: str
    secret: str


def card(prose: str, **meta: str) -> bytes:
    header = "".join(f"{key}: {value}\n" for key, value in meta.items())
    return f"---\n{header}---\n# About this repo\n\n{prose}\n".encode()


@pytest.fixture(scope="module")
def api(plaza) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])


@pytest.fixture(scope="module")
def shelf(api) -> Shelf:
    word = f"s{uuid.uuid4().hex[:6]}"
    prose = f"zeph{uuid.uuid4().hex[:6]}"
    shelf = Shelf(word, prose, *(f"alice/{word}-{kind}" for kind in ("vision", "text", "speech", "secret")))
    cards = {
        shelf.vision: card(
            "Looks at pictures.",
            pipeline_tag="image-classification",
            library_name="timm",
            license="apache-2.0",
            tags=f"[{word}-pictures]",
        ),
        shelf.text: card(
            f"Reads {prose} aloud.",
            pipeline_tag="text-classification",
            library_name="transformers",
            license="mit",
            tags=f"[{word}-words, {word}-small]",
        ),
        shelf.speech: card(
            "Listens.",
            pipeline_tag="automatic-speech-recognition",
            library_name="transformers",
            license="mit",
            tags=f"[{word}-small]",
        ),
        shelf.secret: card(
            f"Secret {prose} plans.",
            pipeline_tag="text-classification",
            library_name="transformers",
            license="mit",
            tags=f"[{word}-small, {word}-classified]",
        ),
    }
    for repo_id, text in cards.items():
        api.create_repo(repo_id, private=repo_id == shelf.secret)
        api.upload_file(path_or_fileobj=text, path_in_repo="README.md", repo_id=repo_id)
    dataset = f"alice/{word}-rows"
    api.create_repo(dataset, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=card("Rows of text.", license="cc-by-4.0", task_categories="[text-classification]"),
        path_in_repo="README.md",
        repo_id=dataset,
        repo_type="dataset",
    )
    return shelf


def listed(page: Page) -> list[str]:
    return [name.strip() for name in page.locator(".repo-list .repo-card-title a").all_inner_texts()]


def query_of(page: Page) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query, keep_blank_values=True)


def test_search_finds_words_that_only_the_card_prose_has(page: Page, shelf: Shelf):
    page.goto("/models")
    page.get_by_role("searchbox", name="Search models and their cards").fill(shelf.prose)
    page.get_by_role("searchbox", name="Search models and their cards").press("Enter")
    expect(page.get_by_text("1 model", exact=True)).to_be_visible()
    assert listed(page) == [shelf.text]
    assert query_of(page) == [("search", shelf.prose), ("sort", "trending")]
    expect(page.get_by_role("link", name=f"Remove Search: {shelf.prose}")).to_be_visible()


def test_sidebar_filters_by_task_library_licence_and_tag(page: Page, shelf: Shelf):
    page.goto(f"/models?q={shelf.word}")
    expect(page.get_by_text("3 models", exact=True)).to_be_visible()
    tasks = page.get_by_role("group", name="Tasks")
    tasks.get_by_label("text-classification").check()
    expect(page.get_by_text("1 model", exact=True)).to_be_visible()
    assert listed(page) == [shelf.text]
    # The address follows, without the empty fields, so it can be shared.
    assert ("pipeline_tag", "text-classification") in query_of(page)
    assert all(value for _, value in query_of(page))
    expect(page.get_by_role("link", name="Remove Task: text-classification")).to_be_visible()
    page.get_by_role("group", name="Tasks").get_by_label("Any").check()
    expect(page.get_by_text("3 models", exact=True)).to_be_visible()

    page.get_by_role("group", name="Libraries").get_by_label("transformers").check()
    expect(page.get_by_text("2 models", exact=True)).to_be_visible()
    assert sorted(listed(page)) == sorted([shelf.text, shelf.speech])
    page.get_by_role("group", name="Licences").get_by_label("mit").check()
    page.get_by_role("group", name="Tags").get_by_label(f"{shelf.word}-words").check()
    expect(page.get_by_text("1 model", exact=True)).to_be_visible()
    assert listed(page) == [shelf.text]
    screenshot(page, "models list filtered")

    # Chips remove one filter at a time; "Clear all" removes every one.
    page.get_by_role("link", name="Remove Library: transformers").click()
    expect(page.get_by_role("link", name="Remove Library: transformers")).to_have_count(0)
    expect(page.get_by_role("group", name="Libraries").get_by_label("Any")).to_be_checked()
    page.get_by_role("group", name="Licences").get_by_label("apache-2.0").check()
    expect(page.get_by_text("No models match these filters.")).to_be_visible()
    page.get_by_role("link", name="clear all filters").click()
    expect(page).to_have_url(re.compile(r"/models$"))
    expect(page.get_by_role("link", name=re.compile("^Remove "))).to_have_count(0)


def test_filters_work_without_javascript(browser: Browser, plaza, shelf: Shelf):
    context = browser.new_context(base_url=plaza.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"/models?q={shelf.word}")
        page.get_by_role("group", name="Tags").get_by_label(f"{shelf.word}-small").check()
        page.get_by_role("button", name="Apply filters").click()
        expect(page.get_by_text("2 models", exact=True)).to_be_visible()
        assert ("tag", f"{shelf.word}-small") in query_of(page)
        page.get_by_label("Sort").select_option(label="Recently updated")
        page.get_by_role("button", name="Search").click()
        assert ("sort", "updated") in query_of(page)
        expect(page.get_by_text("2 models", exact=True)).to_be_visible()
    finally:
        context.close()


def test_sort_by_likes_downloads_and_updates(page: Page, plaza, api: HfApi, shelf: Shelf):
    like = httpx.post(
        f"{plaza.url}/api/models/{shelf.speech}/like",
        headers={"Authorization": f"Bearer {plaza.tokens['alice']}"},
    )
    assert like.status_code == 200
    hf_hub_download(shelf.vision, "README.md", endpoint=plaza.url, force_download=True)
    api.upload_file(path_or_fileobj=b"notes", path_in_repo="notes.txt", repo_id=shelf.text)

    page.goto(f"/models?q={shelf.word}")
    sort = page.get_by_label("Sort")
    for label, name, first in (
        ("Most likes", "likes", shelf.speech),
        ("Most downloads", "downloads", shelf.vision),
        ("Recently updated", "updated", shelf.text),
    ):
        sort.select_option(label=label)
        expect(page).to_have_url(re.compile(f"sort={name}"))
        expect(page.locator(".repo-list .repo-card-title a").first).to_have_text(first)


def test_pages_of_results(page: Page, shelf: Shelf):
    page.goto(f"/models?q={shelf.word}&limit=2")
    expect(page.get_by_text("3 models", exact=True)).to_be_visible()
    first = listed(page)
    assert len(first) == 2
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    assert ("p", "2") in query_of(page)
    assert len(listed(page)) == 1 and listed(page)[0] not in first
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    page.get_by_role("link", name="← Previous").click()
    expect(page.get_by_text("Page 1")).to_be_visible()
    assert listed(page) == first
    # Changing a filter starts again from the first page.
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    page.get_by_role("group", name="Licences").get_by_label("mit").check()
    expect(page.get_by_text("2 models", exact=True)).to_be_visible()
    assert "p" not in dict(query_of(page)) and ("limit", "2") in query_of(page)


def test_bad_sort_gets_a_clear_error_page(page: Page):
    response = page.goto("/models?sort=oldest")
    assert response.status == 400
    expect(page.get_by_role("heading", name="Bad request")).to_be_visible()
    expect(
        page.get_by_text("Unknown sort 'oldest': choose one of trending, likes, downloads, updated")
    ).to_be_visible()


@pytest.mark.parametrize("user", [None, "bob"])
def test_a_private_repo_stays_hidden_from_others(page: Page, shelf: Shelf, user: str | None):
    if user:
        log_in(page, user)
    for address in (f"/models?q={shelf.prose}", f"/models?q={shelf.word}", "/models", "/models?sort=updated"):
        page.goto(address)
        expect(page.get_by_role("link", name=re.compile(f"{shelf.word}-secret"))).to_have_count(0)
        expect(page.get_by_text(f"{shelf.word}-classified")).to_have_count(0)
    page.goto(f"/models?q={shelf.word}")
    expect(
        page.get_by_role("group", name="Tags").get_by_label(f"{shelf.word}-small")
    ).to_have_accessible_name(f"{shelf.word}-small 2")


def test_the_owner_sees_her_private_repo(page: Page, shelf: Shelf):
    log_in(page, "alice")
    page.goto(f"/models?q={shelf.prose}")
    expect(page.get_by_text("2 models", exact=True)).to_be_visible()
    assert sorted(listed(page)) == sorted([shelf.text, shelf.secret])
    secret_card = page.locator(".repo-card", has_text=f"{shelf.word}-secret")
    expect(secret_card.get_by_text("private")).to_be_visible()
    page.goto(f"/models?q={shelf.word}")
    tags = page.get_by_role("group", name="Tags")
    expect(tags.get_by_label(f"{shelf.word}-small")).to_have_accessible_name(f"{shelf.word}-small 3")
    expect(tags.get_by_label(f"{shelf.word}-classified")).to_be_visible()
    screenshot(page, "models list")


def test_datasets_list(page: Page, shelf: Shelf):
    page.goto("/datasets")
    expect(page).to_have_title("Datasets · ModelPlaza")
    expect(page.get_by_role("heading", name="Datasets", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=f"alice/{shelf.word}-rows")).to_be_visible()
    screenshot(page, "datasets list")
    # A dataset's task categories are its tasks.
    page.goto(f"/datasets?q={shelf.word}")
    expect(page.get_by_role("group", name="Licences").get_by_label("cc-by-4.0")).to_be_visible()
    page.get_by_role("group", name="Tasks").get_by_label("text-classification").check()
    expect(page).to_have_url(re.compile("pipeline_tag=text-classification"))
    expect(page.get_by_text("1 dataset", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"alice/{shelf.word}-rows")).to_be_visible()
