"""Knowing a file's sha256 gives neither its bytes nor whether it is stored: bob, who knows the
sha256 of a file in alice's private repo, cannot get it into his own repo without sending its
bytes, and every answer he gets is the one for content stored nowhere. Sending the bytes works,
and alice reuses her own content in another repo without sending it again. Both ways a file
travels: Xet (the client's default) and LFS (``HF_HUB_DISABLE_XET=1``)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, constants, hf_hub_download, set_client_factory
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils._http import default_client_factory

from tests.integration.stored import stored_bytes

MB = 1024 * 1024
NDJSON = {"Content-Type": "application/x-ndjson"}


def _client(plaza, user: str) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens[user])


def _auth(plaza, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaza.tokens[user]}"}


def _private_file(plaza, tmp_path: Path, data: bytes) -> str:
    """alice's new private repo holding ``data`` as weights.bin, uploaded the client's way."""
    repo_id = f"alice/secret-{uuid.uuid4().hex[:8]}"
    alice = _client(plaza, "alice")
    alice.create_repo(repo_id, private=True)
    source = tmp_path / f"secret-{uuid.uuid4().hex[:6]}.bin"
    source.write_bytes(data)
    alice.upload_file(path_or_fileobj=source, path_in_repo="weights.bin", repo_id=repo_id)
    return repo_id


def _random_bytes(size: int) -> bytes:
    return random.Random(uuid.uuid4().int).randbytes(size)


def _own_repo(plaza, user: str) -> str:
    repo_id = f"{user}/{uuid.uuid4().hex[:10]}"
    _client(plaza, user).create_repo(repo_id)
    return repo_id


def _batch(plaza, user: str, repo_id: str, oid: str, size: int) -> dict:
    response = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]},
        headers=_auth(plaza, user),
    )
    assert response.status_code == 200, response.text
    (answer,) = response.json()["objects"]
    return answer


def _commit_by_oid(plaza, user: str, repo_id: str, oid: str, size: int) -> httpx.Response:
    lines = [
        {"key": "header", "value": {"summary": "name content by its sha256"}},
        {"key": "lfsFile", "value": {"path": "stolen.bin", "algo": "sha256", "oid": oid, "size": size}},
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    return httpx.post(
        f"{plaza.url}/api/models/{repo_id}/commit/main",
        content=body,
        headers={**_auth(plaza, user), **NDJSON},
    )


def _verify(plaza, user: str, repo_id: str, oid: str, size: int) -> httpx.Response:
    return httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/verify",
        json={"oid": oid, "size": size},
        headers=_auth(plaza, user),
    )


def _shape(answer: dict) -> dict:
    """An LFS batch object answer with what differs per object (oid, signed links) left out."""
    actions = {name: sorted(action) for name, action in answer.get("actions", {}).items()}
    return {**{k: v for k, v in answer.items() if k not in ("oid", "actions")}, "actions": actions}


def _refusal(response: httpx.Response, oid: str) -> tuple[int, str]:
    return response.status_code, response.headers.get("X-Error-Message", "").replace(oid, "<oid>")


def _uploaded_privately(plaza, folder: Path, *, xet: bool) -> bytes:
    """New random bytes, uploaded over Xet or LFS into a private repo of alice's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_DISABLE_XET", not xet)
        data = _random_bytes(3 * MB if xet else 300_000)
        _private_file(plaza, folder, data)
    return data


@pytest.fixture(scope="module")
def lfs_secret(plaza, tmp_path_factory) -> bytes:
    """The bytes of a file in alice's private repo, uploaded over LFS."""
    return _uploaded_privately(plaza, tmp_path_factory.mktemp("lfs"), xet=False)


@pytest.fixture(scope="module")
def xet_secret(plaza, tmp_path_factory) -> bytes:
    """The bytes of a file in alice's private repo, uploaded over Xet."""
    return _uploaded_privately(plaza, tmp_path_factory.mktemp("xet"), xet=True)


@pytest.fixture(params=["lfs", "xet"])
def secret(request) -> tuple[str, int]:
    """The sha256 and size of a file in alice's private repo, uploaded either way, and nowhere
    else: bob knows them."""
    data = request.getfixturevalue(f"{request.param}_secret")
    return hashlib.sha256(data).hexdigest(), len(data)


def _stored_nowhere() -> str:
    return hashlib.sha256(os.urandom(32)).hexdigest()


def test_the_lfs_batch_asks_bob_for_the_bytes_as_if_stored_nowhere(plaza, secret):
    oid, size = secret
    bob_repo = _own_repo(plaza, "bob")
    held = _batch(plaza, "bob", bob_repo, oid, size)
    assert "upload" in held.get("actions", {}), "the bytes must be asked for"
    assert _shape(held) == _shape(_batch(plaza, "bob", bob_repo, _stored_nowhere(), size))


def test_bob_cannot_commit_it_by_its_sha256(plaza, secret):
    oid, size = secret
    bob_repo, bob = _own_repo(plaza, "bob"), _client(plaza, "bob")
    committed = _commit_by_oid(plaza, "bob", bob_repo, oid, size)
    assert committed.status_code == 400, committed.text
    assert "never uploaded" in committed.headers["X-Error-Message"]
    nowhere = _stored_nowhere()
    assert _refusal(committed, oid) == _refusal(
        _commit_by_oid(plaza, "bob", bob_repo, nowhere, size), nowhere
    )
    assert bob.list_repo_files(bob_repo) == [".gitattributes"]
    with pytest.raises(HfHubHTTPError):
        bob.hf_hub_download(bob_repo, "stolen.bin")


def test_lfs_verify_tells_bob_nothing(plaza, secret):
    oid, size = secret
    bob_repo = _own_repo(plaza, "bob")
    verified = _verify(plaza, "bob", bob_repo, oid, size)
    assert verified.status_code == 404
    nowhere = _stored_nowhere()
    assert _refusal(verified, oid) == _refusal(_verify(plaza, "bob", bob_repo, nowhere, size), nowhere)


@pytest.fixture
def requests_sent() -> Iterator[list[tuple[str, str]]]:
    """(method, path) of every request the Hugging Face client sends meanwhile."""
    sent: list[tuple[str, str]] = []

    def recording_client():
        client = default_client_factory()
        client.event_hooks["request"].append(lambda request: sent.append((request.method, request.url.path)))
        return client

    set_client_factory(recording_client)
    yield sent
    set_client_factory(default_client_factory)


# --- over LFS --------------------------------------------------------------------------------


@pytest.mark.parametrize("stored_over", ["lfs", "xet"])
def test_lfs_sending_the_bytes_of_a_file_stored_elsewhere_works(
    plaza, tmp_path, requests_sent, monkeypatch, stored_over
):
    data = _uploaded_privately(plaza, tmp_path, xet=stored_over == "xet")
    requests_sent.clear()
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # bob sends over LFS, however alice did
    bob_repo, bob = _own_repo(plaza, "bob"), _client(plaza, "bob")
    blobs = stored_bytes(plaza, "blobs")
    bob.upload_file(path_or_fileobj=data, path_in_repo="mine.bin", repo_id=bob_repo)
    assert any(method == "PUT" and "/api/lfs/objects/" in path for method, path in requests_sent)
    assert stored_bytes(plaza, "blobs") == blobs  # checked, then dropped: stored once, either way
    path = hf_hub_download(bob_repo, "mine.bin", token=bob.token, cache_dir=tmp_path / "bob")
    assert Path(path).read_bytes() == data


def test_lfs_the_owner_reuses_her_file_in_another_repo_without_sending_it(
    plaza, no_xet, tmp_path, requests_sent
):
    data = _random_bytes(300_000)
    _private_file(plaza, tmp_path, data)
    assert any(method == "PUT" for method, _ in requests_sent)
    requests_sent.clear()
    alice, second = _client(plaza, "alice"), _own_repo(plaza, "alice")
    alice.upload_file(path_or_fileobj=data, path_in_repo="again.bin", repo_id=second)
    assert not [path for method, path in requests_sent if method == "PUT"], "the bytes were sent again"
    path = hf_hub_download(second, "again.bin", token=alice.token, cache_dir=tmp_path / "alice")
    assert Path(path).read_bytes() == data


# --- over Xet --------------------------------------------------------------------------------


def test_xet_sending_the_bytes_of_a_file_stored_elsewhere_works(plaza, tmp_path):
    data = _random_bytes(3 * MB)
    _private_file(plaza, tmp_path, data)
    bob_repo, bob = _own_repo(plaza, "bob"), _client(plaza, "bob")
    xorbs = stored_bytes(plaza, "xorbs")
    bob.upload_file(path_or_fileobj=data, path_in_repo="mine.bin", repo_id=bob_repo)
    assert stored_bytes(plaza, "xorbs") == xorbs  # the chunks are stored once
    path = hf_hub_download(bob_repo, "mine.bin", token=bob.token, cache_dir=tmp_path / "bob")
    assert Path(path).read_bytes() == data


def test_xet_the_owner_reuses_her_file_in_another_repo(plaza, tmp_path):
    data = _random_bytes(3 * MB)
    _private_file(plaza, tmp_path, data)
    alice, second = _client(plaza, "alice"), _own_repo(plaza, "alice")
    xorbs = stored_bytes(plaza, "xorbs")
    alice.upload_file(path_or_fileobj=data, path_in_repo="again.bin", repo_id=second)
    assert stored_bytes(plaza, "xorbs") == xorbs
    path = hf_hub_download(second, "again.bin", token=alice.token, cache_dir=tmp_path / "alice")
    assert Path(path).read_bytes() == data
