"""Likes over the HF API: like (POST, as the Hub's own pages do) and unlike a repo, list a user's
likes and a repo's likers with huggingface_hub; private repos stay hidden throughout."""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError


def like_url(plaza, repo_id: str, repo_type: str = "model") -> str:
    return f"{plaza.url}/api/{repo_type}s/{repo_id}/like"


def like(plaza, user: str | None, repo_id: str, repo_type: str = "model") -> httpx.Response:
    headers = {"Authorization": f"Bearer {plaza.tokens[user]}"} if user else {}
    return httpx.post(like_url(plaza, repo_id, repo_type), headers=headers)


def test_like_list_and_unlike(plaza, api: HfApi, repo_name: str):
    model, dataset = f"alice/{repo_name}", f"alice/{repo_name}-data"
    api.create_repo(model)
    api.create_repo(dataset, repo_type="dataset")
    bob = HfApi(endpoint=plaza.url, token=plaza.tokens["bob"])

    assert like(plaza, "bob", model).status_code == 200
    assert like(plaza, "bob", model).status_code == 200  # liking twice is harmless
    assert like(plaza, "bob", dataset, "dataset").status_code == 200
    assert api.model_info(model).likes == 1

    liked = bob.list_liked_repos()
    assert liked.user == "bob"
    assert model in liked.models and dataset in liked.datasets
    assert model in api.list_liked_repos("bob").models  # anyone may look
    assert [u.username for u in api.list_repo_likers(model)] == ["bob"]

    bob.unlike(model)
    bob.unlike(model)  # so is unliking twice
    assert api.model_info(model).likes == 0
    assert model not in bob.list_liked_repos().models
    assert dataset in bob.list_liked_repos().datasets
    assert list(api.list_repo_likers(model)) == []


def test_private_likes_stay_private(plaza, api: HfApi, repo_name: str):
    secret = f"alice/{repo_name}"
    api.create_repo(secret, private=True)
    assert like(plaza, "alice", secret).status_code == 200
    assert secret in api.list_liked_repos().models
    # bob neither sees the like nor can like or unlike a repo he may not see.
    bob = HfApi(endpoint=plaza.url, token=plaza.tokens["bob"])
    assert secret not in bob.list_liked_repos("alice").models
    assert like(plaza, "bob", secret).status_code == 404
    with pytest.raises(RepositoryNotFoundError):
        bob.unlike(secret)
    with pytest.raises(RepositoryNotFoundError):
        list(bob.list_repo_likers(secret))


def test_bad_like_requests(plaza, api: HfApi, repo_name: str):
    model = f"alice/{repo_name}"
    api.create_repo(model)
    assert like(plaza, None, model).status_code == 401
    assert like(plaza, "alice-read", model).status_code == 403
    assert like(plaza, "alice", "alice/no-such-model").status_code == 404
    assert like(plaza, "alice", model, "space").status_code == 400
    with pytest.raises(HfHubHTTPError) as missing:
        api.list_liked_repos("no-such-user")
    assert missing.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as org:
        api.list_liked_repos("acme")  # organisations do not like
    assert org.value.response.status_code == 404
    assert api.model_info(model).likes == 0
