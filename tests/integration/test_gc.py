"""`plaza admin gc` frees what nothing reaches any more, and never what is still referenced."""

from __future__ import annotations

import hashlib
import os

import httpx
from huggingface_hub import hf_hub_download

from tests.integration.stored import store, stored_keys, unfinished_uploads
from tests.integration.xet_helpers import cas_token, named_xorb


def _held(plaza, sha256: str) -> bool:
    return store(plaza, "blobs").exists(sha256)


def _abandoned_lfs_upload(plaza, repo_id: str) -> str:
    """Upload an object through LFS and never commit it."""
    data = os.urandom(200_000)
    oid = hashlib.sha256(data).hexdigest()
    batch = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]},
        headers={"Authorization": f"Bearer {plaza.tokens['alice']}"},
    ).json()
    httpx.put(batch["objects"][0]["actions"]["upload"]["href"], content=data).raise_for_status()
    return oid


def test_gc_frees_abandoned_uploads_and_keeps_referenced_files(plaza, api, repo_name, no_xet, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    kept = os.urandom(300_000)
    api.upload_file(path_or_fileobj=kept, path_in_repo="kept.bin", repo_id=repo_id)
    abandoned = _abandoned_lfs_upload(plaza, repo_id)
    assert _held(plaza, abandoned)

    dry = plaza.cli("admin", "gc", "--dry-run", "--grace-hours", "0")
    assert "would free" in dry.stdout
    assert _held(plaza, abandoned)

    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _held(plaza, abandoned)
    assert _held(plaza, hashlib.sha256(kept).hexdigest())
    path = hf_hub_download(repo_id, "kept.bin", token=api.token, cache_dir=tmp_path)
    with open(path, "rb") as file:
        assert file.read() == kept


def test_gc_keeps_young_uploads_within_the_grace_period(plaza, repo_name, api):
    api.create_repo(f"alice/{repo_name}")
    abandoned = _abandoned_lfs_upload(plaza, f"alice/{repo_name}")
    plaza.cli("admin", "gc")
    assert _held(plaza, abandoned)


def test_gc_after_deleting_a_repo_keeps_content_shared_with_another(plaza, api, repo_name, no_xet):
    shared, own = os.urandom(150_000), os.urandom(160_000)
    for suffix, files in (("a", {"shared.bin": shared, "own.bin": own}), ("b", {"shared.bin": shared})):
        api.create_repo(f"alice/{repo_name}-{suffix}")
        for name, data in files.items():
            api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=f"alice/{repo_name}-{suffix}")
    api.delete_repo(f"alice/{repo_name}-a")
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _held(plaza, hashlib.sha256(own).hexdigest())
    assert _held(plaza, hashlib.sha256(shared).hexdigest())


def test_gc_after_deleting_a_branch_frees_what_only_it_held(plaza, api, repo_name, no_xet):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    api.create_branch(repo_id, branch="experiment")
    only_there = os.urandom(170_000)
    api.upload_file(path_or_fileobj=only_there, path_in_repo="x.bin", repo_id=repo_id, revision="experiment")
    api.delete_branch(repo_id, branch="experiment")
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _held(plaza, hashlib.sha256(only_there).hexdigest())
    assert [c.title for c in api.list_repo_commits(repo_id)] == ["initial commit"]


def test_gc_frees_a_xorb_no_shard_ever_named(plaza, api, repo_name):
    api.create_repo(f"alice/{repo_name}")
    token = cas_token(plaza, f"alice/{repo_name}")
    key, body = named_xorb([os.urandom(30_000), os.urandom(20_000)])
    httpx.post(
        f"{token['casUrl']}/v1/xorbs/default/{key}",
        content=body,
        headers={"Authorization": f"Bearer {token['accessToken']}"},
    ).raise_for_status()
    xorbs = store(plaza, "xorbs")
    assert xorbs.exists(key)
    plaza.cli("admin", "gc")
    assert xorbs.exists(key)  # young: the shard may be on its way
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not xorbs.exists(key)


def test_gc_after_deleting_the_only_repo_with_a_xet_file_frees_its_xorbs(plaza, api, repo_name, tmp_path):
    kept_repo, gone_repo = f"alice/{repo_name}-kept", f"alice/{repo_name}-gone"
    kept, gone = os.urandom(2_000_000), os.urandom(2_100_000)
    for repo_id, data in ((kept_repo, kept), (gone_repo, gone)):
        api.create_repo(repo_id)
        before = stored_keys(plaza, "xorbs")
        api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo_id)
        assert stored_keys(plaza, "xorbs") - before
        if repo_id == gone_repo:
            gone_xorbs = stored_keys(plaza, "xorbs") - before
    api.delete_repo(gone_repo)
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not gone_xorbs & stored_keys(plaza, "xorbs")
    path = hf_hub_download(kept_repo, "w.bin", token=api.token, cache_dir=tmp_path)
    with open(path, "rb") as file:
        assert file.read() == kept


def test_gc_frees_stored_objects_no_row_records_and_unfinished_uploads(plaza):
    blobs = store(plaza, "blobs")
    unrecorded = blobs.put_bytes(os.urandom(1000)).sha256  # as a commit that failed leaves it
    blobs.writer().write(b"a client that went away")
    plaza.cli("admin", "gc")
    assert blobs.exists(unrecorded) and unfinished_uploads(plaza, "blobs") == 1  # young
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not blobs.exists(unrecorded) and unfinished_uploads(plaza, "blobs") == 0
