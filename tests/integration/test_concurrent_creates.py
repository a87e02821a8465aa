"""Concurrent creates of the same thing: twenty clients at once creating one repo (with
``exist_ok``), one branch, one tag, or liking one repo. Each gets the existing thing or a 409,
never a 500, and exactly one is created.

On SQLite writers take turns; on PostgreSQL (``PLAZA_TEST_DATABASE=postgres``, as ``make
test`` runs this suite a second time) they really race to the unique constraints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

CLIENTS = 20


def _all_at_once(action: Callable[[], object]) -> list[object]:
    """What each of CLIENTS threads got from ``action`` (a value or the error it raised),
    started together."""
    start = threading.Barrier(CLIENTS)

    def one() -> object:
        start.wait()
        try:
            return action()
        except HfHubHTTPError as error:
            return error

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(lambda _: one(), range(CLIENTS)))


def _status(outcome: object) -> int:
    if isinstance(outcome, HfHubHTTPError):
        return outcome.response.status_code
    return outcome.status_code if isinstance(outcome, httpx.Response) else 200


def _statuses(outcomes: list[object]) -> list[int]:
    return sorted(_status(o) for o in outcomes)


def test_concurrent_create_repo_with_exist_ok_gives_everyone_the_repo(api, repo_name):
    repo_id = f"alice/{repo_name}"
    outcomes = _all_at_once(lambda: api.create_repo(repo_id, exist_ok=True))
    assert _statuses(outcomes) == [200] * CLIENTS, outcomes
    assert {o.repo_id for o in outcomes} == {repo_id}  # type: ignore[attr-defined]
    assert [c.title for c in api.list_repo_commits(repo_id)] == ["initial commit"]


def test_concurrent_create_repo_without_exist_ok_creates_it_once(api, repo_name):
    repo_id = f"alice/{repo_name}"
    outcomes = _all_at_once(lambda: api.create_repo(repo_id))
    assert _statuses(outcomes) == [200] + [409] * (CLIENTS - 1), outcomes
    assert api.repo_exists(repo_id)


@pytest.mark.parametrize("kind", ["branch", "tag"])
def test_concurrent_create_of_one_ref_creates_it_once(api, repo_id, kind):
    create = api.create_branch if kind == "branch" else api.create_tag
    outcomes = _all_at_once(lambda: create(repo_id, **{kind: "same-name"}))
    assert _statuses(outcomes) == [200] + [409] * (CLIENTS - 1), outcomes
    refused = [o for o in outcomes if isinstance(o, HfHubHTTPError)]
    assert all("already exists" in str(o) for o in refused)
    refs = api.list_repo_refs(repo_id)
    assert [r.name for r in (refs.branches if kind == "branch" else refs.tags)].count("same-name") == 1


def test_concurrent_deletes_of_one_ref_delete_it_once(api, repo_id):
    api.create_branch(repo_id, branch="doomed")
    outcomes = _all_at_once(lambda: api.delete_branch(repo_id, branch="doomed"))
    assert _statuses(outcomes) == [200] + [404] * (CLIENTS - 1), outcomes
    assert "doomed" not in {b.name for b in api.list_repo_refs(repo_id).branches}


def test_concurrent_likes_count_once(plaza, api, repo_id):
    bob = HfApi(endpoint=plaza.url, token=plaza.tokens["bob"])
    like = f"{plaza.url}/api/models/{repo_id}/like"  # the client has no call for it
    auth = {"Authorization": f"Bearer {plaza.tokens['bob']}"}
    assert _statuses(_all_at_once(lambda: httpx.post(like, headers=auth))) == [200] * CLIENTS
    assert api.model_info(repo_id).likes == 1
    assert _statuses(_all_at_once(lambda: bob.unlike(repo_id))) == [200] * CLIENTS
    assert api.model_info(repo_id).likes == 0
