"""Searching as a newcomer does: the header's box finds models and datasets alike, and the
Hub's own ``?search=`` works on the pages as in the API."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from huggingface_hub import HfApi

from tests.integration.test_web_lists import listed

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def word(plaza) -> str:
    """A model and a dataset whose names hold the same new word, and a model without it."""
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    word = f"s{uuid.uuid4().hex[:8]}"
    api.create_repo(f"alice/{word}-model")
    api.create_repo(f"alice/{word}-rows", repo_type="dataset")
    api.create_repo(f"alice/other-{uuid.uuid4().hex[:8]}")
    return word


def page(plaza, path: str, **params: str) -> str:
    response = httpx.get(f"{plaza.url}{path}", params=params, headers=HTML)
    assert response.status_code == 200
    return response.text


def test_the_header_search_finds_models_and_datasets(plaza, word):
    header = re.search(
        r'<form class="nav-search" action="([^"]+)"[^>]*>.*?name="(\w+)"', page(plaza, "/login"), re.S
    )
    assert header and header.groups() == ("/search", "search")
    results = page(plaza, "/search", search=word)
    assert listed(results) == [f"alice/{word}-model", f"alice/{word}-rows"]
    assert f'href="/datasets/alice/{word}-rows"' in results
    # ?q= reads the same.
    assert listed(page(plaza, "/search", q=word)) == listed(results)


def test_a_search_with_nothing_found_says_so(plaza):
    results = page(plaza, "/search", search=f"none-{uuid.uuid4().hex}")
    assert listed(results) == [] and "No model matches" in results and "No dataset matches" in results
    assert "Search models and datasets" in page(plaza, "/search")


@pytest.mark.parametrize(
    ("path", "kind", "other"), [("/models", "model", "dataset"), ("/datasets", "dataset", "model")]
)
def test_the_lists_read_the_hubs_search_parameter(plaza, word, path, kind, other):
    found = page(plaza, path, search=word)
    assert listed(found) == [f"alice/{word}-{'model' if kind == 'model' else 'rows'}"]
    assert f'name="search" value="{word}"' in found
    # The other kind's matches are one link away.
    link = re.search(rf'1 {other} matches “{word}” too:\s*<a href="([^"]+)"', found)
    assert link and link.group(1) == f"/{other}s?search={word}"
    assert listed(page(plaza, path, q=word)) == listed(found)


def test_the_api_lists_search_by_name(plaza, word):
    for plural, name in (("models", f"alice/{word}-model"), ("datasets", f"alice/{word}-rows")):
        answer = httpx.get(f"{plaza.url}/api/{plural}", params={"search": word})
        assert answer.status_code == 200 and [repo["id"] for repo in answer.json()] == [name]
