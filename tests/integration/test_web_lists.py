"""The model and dataset list pages as a browser fetches them: full-text search, facets with
their counts, filters, sort and pages, and never a private repo of someone else."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

HTML = {"Accept": "text/html"}
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}


@dataclass
class Catalogue:
    word: str  # in every repo id
    prose: str  # only in the prose of beta's and the secret's cards
    alpha: str
    beta: str
    secret: str
    dataset: str


def card(prose: str, **meta: str | list[str]) -> bytes:
    lines = [f"{key}: {value}" for key, value in meta.items()]
    return ("---\n" + "\n".join(lines) + f"\n---\n# A card\n\n{prose}\n").encode()


def upload_card(api: HfApi, repo_id: str, text: bytes, repo_type: str = "model") -> None:
    api.upload_file(path_or_fileobj=text, path_in_repo="README.md", repo_id=repo_id, repo_type=repo_type)


@pytest.fixture(scope="module")
def cat(plaza) -> Catalogue:
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    word = f"w{uuid.uuid4().hex[:8]}"
    cat = Catalogue(
        word,
        prose=f"p{uuid.uuid4().hex[:8]}",
        alpha=f"alice/{word}-alpha",
        beta=f"alice/{word}-beta",
        secret=f"alice/{word}-secret",
        dataset=f"alice/{word}-data",
    )
    shared = f"[{word}-shared]"
    cards = {
        cat.alpha: card(
            "Plain words.",
            pipeline_tag="text-classification",
            library_name="transformers",
            license="mit",
            tags=shared,
        ),
        cat.beta: card(
            f"It knows {cat.prose} well.",
            pipeline_tag="text-classification",
            library_name="timm",
            license="apache-2.0",
            tags=shared,
        ),
        cat.secret: card(
            f"Also {cat.prose}.",
            pipeline_tag="image-classification",
            library_name=f"{word}-hidden-lib",
            license="mit",
            tags=f"[{word}-shared, {word}-secret-tag]",
        ),
    }
    for repo_id, text in cards.items():
        api.create_repo(repo_id, private=repo_id == cat.secret)
        upload_card(api, repo_id, text)
    api.create_repo(cat.dataset, repo_type="dataset")
    rows = card(f"Rows about {cat.prose}.", license="mit", task_categories="[text-generation]")
    upload_card(api, cat.dataset, rows, "dataset")
    return cat


@pytest.fixture
def browser(plaza) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=plaza.url, headers=HTML) as client:
        yield client


def logged_in(client: httpx.Client, user: str) -> httpx.Client:
    """Log in through the login form, as a browser does (the CSRF cookie comes with the form)."""
    client.get("/login").raise_for_status()
    form = {"username": user, "password": PASSWORDS[user], "csrf_token": client.cookies["plaza_csrf"]}
    assert client.post("/login", data=form).status_code == 303
    return client


def listed(page: str) -> list[str]:
    """The repo ids on a list page, in order."""
    return re.findall(r'<h3 class="repo-card-title">\s*<a href="/(?:datasets/)?([^"]+)"', page)


def facet_count(page: str, name: str, value: str) -> int | None:
    """The count next to a facet value in the sidebar; None when it is not offered."""
    found = re.search(
        rf'name="{name}" value="{re.escape(value)}"[^>]*>\s*<span class="facet-value">[^<]*</span>\s*'
        r'<span class="facet-count">(\d+)</span>',
        page,
    )
    return int(found.group(1)) if found else None


def test_search_reads_the_card_prose_but_never_shows_a_private_repo(browser, cat):
    response = browser.get("/models", params={"q": cat.prose})
    assert response.status_code == 200
    assert listed(response.text) == [cat.beta]
    assert "1 model<" in response.text
    assert cat.secret not in response.text


def test_facets_count_only_the_repos_the_visitor_can_see(browser, cat):
    response = browser.get("/models", params={"q": cat.word})
    assert response.status_code == 200
    page = response.text
    assert sorted(listed(page)) == [cat.alpha, cat.beta]
    assert "2 models<" in page
    assert facet_count(page, "tag", f"{cat.word}-shared") == 2
    assert facet_count(page, "pipeline_tag", "text-classification") == 2
    assert facet_count(page, "license", "mit") == 1
    assert facet_count(page, "library", "timm") == 1
    # Nothing of the private repo, not even its facet values.
    for secret in (cat.secret, f"{cat.word}-secret-tag", f"{cat.word}-hidden-lib", "image-classification"):
        assert secret not in page


@pytest.mark.parametrize("user", ["bob", None])
def test_other_users_do_not_see_the_private_repo(plaza, browser, cat, user):
    client = logged_in(browser, user) if user else browser
    for params in ({"q": cat.prose}, {"q": cat.word}, {"tag": f"{cat.word}-secret-tag"}, {"author": "alice"}):
        response = client.get("/models", params=params)
        assert response.status_code == 200, params
        assert cat.secret not in response.text and f"{cat.word}-hidden-lib" not in response.text
    assert "0 models<" in client.get("/models", params={"tag": f"{cat.word}-secret-tag"}).text


def test_the_owner_sees_her_private_repo_and_its_facets(browser, cat):
    alice = logged_in(browser, "alice")
    page = alice.get("/models", params={"q": cat.prose}).text
    assert sorted(listed(page)) == [cat.beta, cat.secret]
    page = alice.get("/models", params={"q": cat.word}).text
    assert facet_count(page, "tag", f"{cat.word}-shared") == 3
    assert facet_count(page, "license", "mit") == 2
    assert facet_count(page, "library", f"{cat.word}-hidden-lib") == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("license", "mit")], ["alpha"]),
        ([("license", "apache-2.0")], ["beta"]),
        ([("library", "timm")], ["beta"]),
        ([("pipeline_tag", "text-classification")], ["alpha", "beta"]),
        ([("tag", "{word}-shared")], ["alpha", "beta"]),
        ([("tag", "{word}-shared"), ("tag", "no-such-tag")], []),
        ([("author", "alice")], ["alpha", "beta"]),
        ([("author", "bob")], []),
        # What the form sends when nothing is chosen.
        ([("pipeline_tag", ""), ("library", ""), ("license", ""), ("author", "")], ["alpha", "beta"]),
    ],
)
def test_filters_narrow_the_search(browser, cat, params, expected):
    params = [("q", cat.word)] + [(name, value.format(word=cat.word)) for name, value in params]
    page = browser.get("/models", params=params).text
    assert sorted(listed(page)) == [getattr(cat, name) for name in expected]
    if not expected:
        assert "No models match these filters." in page
        assert 'href="/models">clear all filters' in page


def test_sort_by_downloads_and_updated(plaza, browser, cat):
    hf_hub_download(cat.alpha, "README.md", endpoint=plaza.url, force_download=True)
    assert listed(browser.get("/models", params={"q": cat.word, "sort": "downloads"}).text) == [
        cat.alpha,
        cat.beta,
    ]
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    api.upload_file(path_or_fileobj=b"more", path_in_repo="notes.txt", repo_id=cat.beta)
    assert listed(browser.get("/models", params={"q": cat.word, "sort": "updated"}).text) == [
        cat.beta,
        cat.alpha,
    ]


def test_pages_and_htmx_swaps(browser, cat):
    first = browser.get("/models", params={"q": cat.word, "limit": "1"})
    second = browser.get("/models", params={"q": cat.word, "limit": "1", "p": "2"}).text
    assert len(listed(first.text)) == len(listed(second)) == 1
    assert set(listed(first.text) + listed(second)) == {cat.alpha, cat.beta}
    assert f"/models?search={cat.word}&amp;limit=1&amp;p=2" in first.text and 'rel="prev"' in second
    assert "Vary" in first.headers and "HX-Request" in first.headers["Vary"]
    # htmx asks for the inside of the form only; a history restore gets the whole page.
    swap = browser.get("/models", params={"q": cat.word}, headers={"HX-Request": "true"}).text
    assert "<html" not in swap and "2 models<" in swap
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in browser.get("/models", params={"q": cat.word}, headers=restore).text


def test_datasets_have_their_own_list_with_task_categories_as_tasks(browser, cat):
    page = browser.get("/datasets", params={"q": cat.prose}).text
    assert listed(page) == [cat.dataset]
    assert "1 dataset<" in page and facet_count(page, "license", "mit") == 1
    assert facet_count(page, "pipeline_tag", "text-generation") == 1
    assert "task_categories:" not in page
    tasks = browser.get("/datasets", params={"q": cat.prose, "pipeline_tag": "text-generation"}).text
    assert listed(tasks) == [cat.dataset]
    assert cat.dataset not in browser.get("/models", params={"q": cat.prose}).text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "newest"}, "Unknown sort &#39;newest&#39;"),
        ({"p": "0"}, "The page number must be a whole number from 1 to 100000"),
        ({"p": "two"}, "The page number must be"),
        ({"p": "99999999999999999999"}, "The page number must be"),
        ({"limit": "101"}, "The page size limit must be a whole number from 1 to 100"),
        ({"limit": "-1"}, "The page size limit must be"),
    ],
)
def test_bad_sort_or_page_answers_400(browser, params, message):
    response = browser.get("/models", params=params)
    assert response.status_code == 400
    assert "Bad request" in response.text and message in response.text


def test_a_page_past_the_end_points_back(browser, cat):
    page = browser.get("/models", params={"q": cat.word, "p": "50"}).text
    assert listed(page) == [] and "2 models<" in page and "Back to the first page" in page


def test_the_api_list_is_unchanged_by_full_text_search(plaza, cat):
    # The API's search matches repo ids only; the card prose is for the pages.
    api = HfApi(endpoint=plaza.url)
    assert list(api.list_models(search=cat.prose)) == []
    assert {m.id for m in api.list_models(search=cat.word)} == {cat.alpha, cat.beta}
