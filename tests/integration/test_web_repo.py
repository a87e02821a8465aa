"""The repo pages as HTTP sees them: redirects, refused and malformed requests, datasets, cards
and their links — what the browser tests leave out."""

from __future__ import annotations

import html

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from tests.integration.test_web_accounts import browser, csrf, log_in

HTML = {"Accept": "text/html"}


@pytest.fixture
def model(api: HfApi, repo_name: str) -> str:
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", b"---\nlicense: mit\n---\n# Hello\n\n![chart](img/chart.png)\n"),
            CommitOperationAdd("src/a.py", b"print('a')\n"),
        ],
        commit_message="Add card and code",
    )
    return repo_id


def page(plaza, path: str, **kwargs) -> httpx.Response:
    return httpx.get(f"{plaza.url}{path}", headers=HTML, **kwargs)


def test_like_form_without_htmx_returns_to_the_page(plaza, api: HfApi, model: str):
    with browser(plaza) as client:
        assert log_in(client, "bob").status_code == 303
        form = {"liked": "1", "csrf_token": csrf(client)}
        came_from = {"Referer": f"{plaza.url}/{model}/tree/main/src"}
        answer = client.post(f"/{model}/like", data=form, headers=came_from)
        assert answer.status_code == 303 and answer.headers["location"] == f"/{model}/tree/main/src"
        assert api.model_info(model).likes == 1
        # Back to the repo page, never to another site.
        elsewhere = {"Referer": "https://elsewhere.example/alice"}
        answer = client.post(f"/{model}/like", data={**form, "liked": "0"}, headers=elsewhere)
        assert answer.headers["location"] == f"/{model}"
        assert api.model_info(model).likes == 0
        # The htmx answer is the button itself.
        fragment = client.post(f"/{model}/like", data=form, headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and 'aria-label="Unlike; 1 likes"' in fragment.text
        assert client.post(f"/{model}/like", data={**form, "liked": "yes"}).status_code == 400
        assert client.post(f"/{model}/like", data={"liked": "0"}).status_code == 403  # no CSRF token
        assert api.model_info(model).likes == 1


def test_anonymous_like_goes_to_log_in(plaza, model: str):
    with browser(plaza) as client:
        form = {"liked": "1", "csrf_token": csrf(client)}
        answer = client.post(f"/{model}/like", data=form)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next=%2F{model.replace('/', '%2F')}"
        answer = client.post(f"/{model}/like", data=form, headers={"HX-Request": "true"})
        assert answer.headers["HX-Redirect"].startswith("/login?next=")


def test_dataset_pages_use_dataset_addresses(plaza, api: HfApi, repo_name: str):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    api.create_commit(
        repo_id,
        [
            CommitOperationAdd(
                "README.md", b"---\ntask_categories:\n- text-classification\n---\n# Reviews\n"
            ),
            CommitOperationAdd("data/train.csv", b"text,label\ngood,1\nbad,0\n"),
        ],
        commit_message="Add data",
        repo_type="dataset",
    )
    card = html.unescape(page(plaza, f"/datasets/{repo_id}").text)
    assert f'load_dataset("{repo_id}")' in card
    assert f"{plaza.url}/datasets/{repo_id}/resolve/main/README.md" in card
    assert f'href="/datasets/{repo_id}/viewer/main"' in card
    assert "/datasets?tag=task_categories%3Atext-classification" in card
    tree = page(plaza, f"/datasets/{repo_id}/tree/main/data").text
    assert f'href="/datasets/{repo_id}/blob/main/data/train.csv"' in tree
    assert "bad,0" in page(plaza, f"/datasets/{repo_id}/blob/main/data/train.csv").text
    assert page(plaza, f"/{repo_id}").status_code == 404  # not a model


def test_redirects_and_bad_addresses(plaza, api: HfApi, model: str, repo_name: str):
    assert page(plaza, f"/{model}/tree/main/src/a.py").headers["location"] == f"/{model}/blob/main/src/a.py"
    assert page(plaza, f"/{model}/blob/main/src").headers["location"] == f"/{model}/tree/main/src"
    switch = page(plaza, f"/{model}/switch", params={"tab": "tree", "path": "src", "rev": "main"})
    assert switch.headers["location"] == f"/{model}/tree/main/src"
    assert page(plaza, f"/{model}/switch", params={"rev": "nope"}).status_code == 404
    assert page(plaza, f"/{model}/blob/main/missing.txt").status_code == 404
    assert page(plaza, f"/{model}/tree/main/missing").status_code == 404
    assert page(plaza, f"/{model}/commits/main", params={"p": "0"}).status_code == 400
    assert page(plaza, f"/{model}/commits/main", params={"p": "x"}).status_code == 400
    assert page(plaza, f"/{model}/commit/{'0' * 40}").status_code == 404
    # A commit of another repo is not this repo's.
    other = f"alice/{repo_name}-other"
    api.create_repo(other)
    assert page(plaza, f"/{model}/commit/{api.model_info(other).sha}").status_code == 404


def test_card_links_resolve_in_the_repo_and_missing_cards_invite_writers(
    plaza, api: HfApi, model: str, repo_name: str
):
    card = page(plaza, f"/{model}").text
    assert f'src="/{model}/resolve/main/img/chart.png"' in card
    empty = f"alice/{repo_name}-empty"
    api.create_repo(empty)
    assert "No model card yet" in page(plaza, f"/{empty}").text
    assert f"/{empty}/edit/main/README.md" not in page(plaza, f"/{empty}").text
    with browser(plaza) as client:
        assert log_in(client, "alice").status_code == 303
        assert f'href="/{empty}/edit/main/README.md"' in client.get(f"/{empty}").text


def test_history_counts_what_each_commit_changed(plaza, api: HfApi, model: str):
    api.create_commit(
        model,
        [CommitOperationAdd("src/a.py", b"print('b')\n"), CommitOperationDelete("README.md")],
        commit_message="Change a, drop the card",
    )
    history = html.unescape(page(plaza, f"/{model}/commits/main").text)
    counts = [line.strip() for line in history.splitlines() if "changed" in line and "·" in line]
    assert counts == ["· 2 files changed", "· 2 files changed", "· 1 file changed"]
    commit = page(plaza, f"/{model}/commit/{api.model_info(model).sha}").text
    assert '<span class="badge badge-modified">modified</span>' in commit
    assert '<span class="badge badge-deleted">deleted</span>' in commit
    assert "No model card yet" in page(plaza, f"/{model}").text
