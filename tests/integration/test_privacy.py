"""Private repos are invisible to outsiders everywhere (the same 404 ``RepoNotFound`` as a repo
that does not exist, never 403), and writing needs a write token of someone allowed to write."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, HfFileSystem, constants, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

WEIGHTS = os.urandom(1000)
WEIGHTS_OID = hashlib.sha256(WEIGHTS).hexdigest()


@dataclass
class Hidden:
    repo_id: str
    sha: str


def client(plaza, user: str | None) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens[user] if user else False)


def headers(plaza, user: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaza.tokens[user]}"} if user else {}


def make_private(plaza, repo_id: str) -> Hidden:
    alice = client(plaza, "alice")
    alice.create_repo(repo_id, private=True)
    # A small LFS file (sent over the LFS batch API, not Xet) so the LFS endpoints have an object.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        alice.create_commit(
            repo_id,
            [
                CommitOperationAdd("config.json", b"{}"),
                CommitOperationAdd("dir/weights.bin", WEIGHTS),
            ],
            commit_message="Secret work",
        )
    alice.create_tag(repo_id, tag="v1")
    return Hidden(repo_id, alice.model_info(repo_id).sha)


@pytest.fixture(scope="module")
def secret(plaza) -> Hidden:
    """alice's private model."""
    return make_private(plaza, f"alice/secret-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def org_secret(plaza) -> Hidden:
    """A private model of the org acme (alice admin, bob write member)."""
    return make_private(plaza, f"acme/secret-{uuid.uuid4().hex[:8]}")


def hidden_from(plaza, user: str | None, hidden: Hidden, tmp_path: Path) -> None:
    """Every read path answers 404 RepoNotFound and no list mentions the repo."""
    api = client(plaza, user)
    repo_id, sha = hidden.repo_id, hidden.sha
    calls = {
        "info": lambda: api.model_info(repo_id),
        "info at a branch": lambda: api.model_info(repo_id, revision="main"),
        "info at a sha": lambda: api.model_info(repo_id, revision=sha),
        "info with files": lambda: api.model_info(repo_id, files_metadata=True),
        "tree": lambda: list(api.list_repo_tree(repo_id, recursive=True)),
        "tree of a folder": lambda: list(api.list_repo_tree(repo_id, "dir", revision="v1")),
        "paths-info": lambda: api.get_paths_info(repo_id, ["config.json"]),
        "refs": lambda: api.list_repo_refs(repo_id),
        "commits": lambda: api.list_repo_commits(repo_id),
        "download": lambda: hf_hub_download(
            repo_id, "config.json", token=api.token, cache_dir=tmp_path / str(user)
        ),
    }
    for what, call in calls.items():
        with pytest.raises(RepositoryNotFoundError) as caught:
            call()
        assert caught.value.response.status_code == 404, what
    assert not api.repo_exists(repo_id)
    assert not api.file_exists(repo_id, "config.json")
    name = repo_id.split("/")[1]
    assert repo_id not in {m.id for m in api.list_models(search=name)}
    assert repo_id not in {m.id for m in api.list_models(author=repo_id.split("/")[0])}
    assert repo_id not in {m.id for m in api.list_models(sort="last_modified", limit=50)}

    auth = headers(plaza, user)
    urls = [
        f"{plaza.url}/{repo_id}/resolve/main/config.json",
        f"{plaza.url}/{repo_id}/resolve/{sha}/dir/weights.bin",
        f"{plaza.url}/api/models/{repo_id}/resolve/main/config.json",
    ]
    for url in urls:
        for method in ("HEAD", "GET"):
            response = httpx.request(method, url, headers=auth)
            assert response.status_code == 404, (method, url)
            assert response.headers["X-Error-Code"] == "RepoNotFound"
            assert "X-Repo-Commit" not in response.headers and WEIGHTS not in response.content
    for operation in ("download", "upload"):
        response = httpx.post(
            f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
            json={"operation": operation, "objects": [{"oid": WEIGHTS_OID, "size": len(WEIGHTS)}]},
            headers={**auth, "Accept": "application/vnd.git-lfs+json"},
        )
        assert response.status_code == 404, operation
        assert response.headers["X-Error-Code"] == "RepoNotFound"
    fs = HfFileSystem(endpoint=plaza.url, token=api.token, skip_instance_cache=True)
    assert not fs.exists(f"{repo_id}/config.json")


def visible_to(plaza, user: str, hidden: Hidden, tmp_path: Path) -> None:
    api = client(plaza, user)
    repo_id = hidden.repo_id
    assert api.model_info(repo_id).private is True
    assert api.model_info(repo_id, revision="v1").sha == hidden.sha
    assert {".gitattributes", "config.json", "dir/weights.bin"} == set(api.list_repo_files(repo_id))
    assert [e.path for e in api.get_paths_info(repo_id, ["config.json"])] == ["config.json"]
    assert [t.name for t in api.list_repo_refs(repo_id).tags] == ["v1"]
    assert api.list_repo_commits(repo_id)[0].commit_id == hidden.sha
    assert repo_id in {m.id for m in api.list_models(search=repo_id.split("/")[1])}
    assert repo_id in {m.id for m in api.list_models(author=repo_id.split("/")[0])}
    path = hf_hub_download(repo_id, "dir/weights.bin", token=api.token, cache_dir=tmp_path / user)
    assert Path(path).read_bytes() == WEIGHTS
    response = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "download", "objects": [{"oid": WEIGHTS_OID, "size": len(WEIGHTS)}]},
        headers=headers(plaza, user),
    )
    assert response.status_code == 200 and "download" in response.json()["objects"][0]["actions"]
    fs = HfFileSystem(endpoint=plaza.url, token=api.token, skip_instance_cache=True)
    assert fs.exists(f"{repo_id}/config.json")


@pytest.mark.parametrize("user", [None, "bob"])
def test_a_private_repo_is_hidden_from_outsiders(plaza, secret, user, tmp_path):
    hidden_from(plaza, user, secret, tmp_path)


def test_a_private_org_repo_is_hidden_from_anonymous_callers(plaza, org_secret, tmp_path):
    hidden_from(plaza, None, org_secret, tmp_path)


@pytest.mark.parametrize("user", ["alice", "alice-read", "root"])
def test_a_private_repo_is_visible_to_its_owner_and_admins(plaza, secret, user, tmp_path):
    visible_to(plaza, user, secret, tmp_path)


@pytest.mark.parametrize("user", ["alice", "bob", "root"])
def test_a_private_org_repo_is_visible_to_members_and_admins(plaza, org_secret, user, tmp_path):
    visible_to(plaza, user, org_secret, tmp_path)


def test_hidden_looks_exactly_like_missing(plaza, secret):
    missing = f"alice/missing-{uuid.uuid4().hex[:8]}"
    for path in ("/api/models/{}", "/api/models/{}/tree/main", "/api/models/{}/refs", "/{}/resolve/main/x"):
        there = httpx.get(plaza.url + path.format(secret.repo_id), headers=headers(plaza, "bob"))
        absent = httpx.get(plaza.url + path.format(missing), headers=headers(plaza, "bob"))
        assert (there.status_code, there.headers["X-Error-Code"]) == (
            absent.status_code,
            absent.headers["X-Error-Code"],
        )
        assert there.json()["error"].replace(secret.repo_id, "X") == absent.json()["error"].replace(
            missing, "X"
        )


def test_outsiders_cannot_write_to_a_private_repo_either(plaza, secret):
    bob = client(plaza, "bob")
    attempts = {
        "upload": lambda: bob.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=secret.repo_id),
        "branch": lambda: bob.create_branch(secret.repo_id, branch="mine"),
        "tag": lambda: bob.create_tag(secret.repo_id, tag="mine"),
        "delete": lambda: bob.delete_repo(secret.repo_id),
        "settings": lambda: bob.update_repo_settings(secret.repo_id, private=False),
    }
    for what, attempt in attempts.items():
        with pytest.raises(RepositoryNotFoundError) as caught:
            attempt()
        assert caught.value.response.status_code == 404, what
    alice = client(plaza, "alice")
    assert alice.model_info(secret.repo_id).private is True
    assert [b.name for b in alice.list_repo_refs(secret.repo_id).branches] == ["main"]


def test_creating_a_repo_with_a_taken_private_name(plaza, secret):
    with pytest.raises(HfHubHTTPError) as caught:
        client(plaza, "bob").create_repo(secret.repo_id)
    assert caught.value.response.status_code == 403


def test_making_a_public_repo_private_hides_it_at_once(plaza, api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=repo_id)
    anonymous = client(plaza, None)
    url = f"{plaza.url}/{repo_id}/resolve/main/config.json"
    assert anonymous.model_info(repo_id).private is False
    assert httpx.get(url).status_code == 200
    assert repo_id in {m.id for m in anonymous.list_models(search=repo_name)}

    api.update_repo_settings(repo_id, private=True)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(repo_id)
    assert httpx.get(url).status_code == 404
    assert repo_id not in {m.id for m in anonymous.list_models(search=repo_name)}
    hidden_from(plaza, "bob", Hidden(repo_id, api.model_info(repo_id).sha), tmp_path)


# --- writing needs a write token of someone allowed to write --------------------------------


def upload_status(api: HfApi, repo_id: str) -> int:
    with pytest.raises(HfHubHTTPError) as caught:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    return caught.value.response.status_code


def test_a_read_token_cannot_write(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    reader = client(plaza, "alice-read")
    assert upload_status(reader, repo_id) == 403
    for attempt in (
        lambda: reader.create_repo(f"alice/{repo_name}-2"),
        lambda: reader.create_branch(repo_id, branch="dev"),
        lambda: reader.delete_repo(repo_id),
    ):
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
    assert api.list_repo_files(repo_id) == [".gitattributes"]
    assert api.repo_exists(repo_id) and not api.repo_exists(f"alice/{repo_name}-2")


def test_a_user_without_rights_cannot_write_to_a_public_repo(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    bob = client(plaza, "bob")
    assert upload_status(bob, repo_id) == 403
    for attempt in (
        lambda: bob.create_branch(repo_id, branch="dev"),
        lambda: bob.create_tag(repo_id, tag="v1"),
        lambda: bob.delete_repo(repo_id),
        lambda: bob.update_repo_settings(repo_id, private=True),
        lambda: bob.create_repo(f"alice/{repo_name}-bob"),
    ):
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
    response = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": WEIGHTS_OID, "size": len(WEIGHTS)}]},
        headers=headers(plaza, "bob"),
    )
    assert response.status_code == 403
    assert api.list_repo_files(repo_id) == [".gitattributes"]
    assert api.model_info(repo_id).private is False


def test_anonymous_callers_cannot_write(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    anonymous = client(plaza, None)
    assert upload_status(anonymous, repo_id) == 401
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.create_repo(f"alice/{repo_name}-anon")
    assert caught.value.response.status_code == 401
    response = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": WEIGHTS_OID, "size": len(WEIGHTS)}]},
    )
    assert response.status_code == 401
    assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_an_org_write_member_can_write_but_not_administer(plaza, api, repo_name):
    repo_id = f"acme/{repo_name}"
    api.create_repo(repo_id)
    bob = client(plaza, "bob")
    bob.upload_file(path_or_fileobj=b"by bob", path_in_repo="bob.txt", repo_id=repo_id)
    bob.create_branch(repo_id, branch="bobs")
    assert api.list_repo_commits(repo_id)[0].authors == ["bob"]
    with pytest.raises(HfHubHTTPError) as caught:
        bob.delete_repo(repo_id)
    assert caught.value.response.status_code == 403
    assert api.repo_exists(repo_id)


def test_invalid_tokens_are_refused_not_mistaken_for_a_missing_repo(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    for token in ("plz_0123456789abnotarealtoken", "hf_something", plaza.tokens["alice"] + "x"):
        response = httpx.get(
            f"{plaza.url}/api/models/{repo_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
        with pytest.raises(HfHubHTTPError) as caught:
            HfApi(endpoint=plaza.url, token=token).model_info(repo_id)
        assert not isinstance(caught.value, RepositoryNotFoundError)
        assert caught.value.response.status_code == 401
