"""`plaza admin gc` frees what nothing reaches any more, and never what is still referenced."""

from __future__ import annotations

import hashlib
import os

import httpx
from huggingface_hub import hf_hub_download

from tests.integration.xet_helpers import cas_token, named_xorb, stored_files


def _blob_path(plaza, sha256: str):
    return plaza.data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256


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
    assert _blob_path(plaza, abandoned).exists()

    dry = plaza.cli("admin", "gc", "--dry-run", "--grace-hours", "0")
    assert "would free" in dry.stdout
    assert _blob_path(plaza, abandoned).exists()

    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _blob_path(plaza, abandoned).exists()
    assert _blob_path(plaza, hashlib.sha256(kept).hexdigest()).exists()
    path = hf_hub_download(repo_id, "kept.bin", token=api.token, cache_dir=tmp_path)
    with open(path, "rb") as file:
        assert file.read() == kept


def test_gc_keeps_young_uploads_within_the_grace_period(plaza, repo_name, api):
    api.create_repo(f"alice/{repo_name}")
    abandoned = _abandoned_lfs_upload(plaza, f"alice/{repo_name}")
    plaza.cli("admin", "gc")
    assert _blob_path(plaza, abandoned).exists()


def test_gc_after_deleting_a_repo_keeps_content_shared_with_another(plaza, api, repo_name, no_xet):
    shared, own = os.urandom(150_000), os.urandom(160_000)
    for suffix, files in (("a", {"shared.bin": shared, "own.bin": own}), ("b", {"shared.bin": shared})):
        api.create_repo(f"alice/{repo_name}-{suffix}")
        for name, data in files.items():
            api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=f"alice/{repo_name}-{suffix}")
    api.delete_repo(f"alice/{repo_name}-a")
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _blob_path(plaza, hashlib.sha256(own).hexdigest()).exists()
    assert _blob_path(plaza, hashlib.sha256(shared).hexdigest()).exists()


def test_gc_after_deleting_a_branch_frees_what_only_it_held(plaza, api, repo_name, no_xet):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    api.create_branch(repo_id, branch="experiment")
    only_there = os.urandom(170_000)
    api.upload_file(path_or_fileobj=only_there, path_in_repo="x.bin", repo_id=repo_id, revision="experiment")
    api.delete_branch(repo_id, branch="experiment")
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not _blob_path(plaza, hashlib.sha256(only_there).hexdigest()).exists()
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
    stored = plaza.data_dir / "xorbs" / key[:2] / key[2:4] / key
    assert stored.exists()
    plaza.cli("admin", "gc")
    assert stored.exists()  # young: the shard may be on its way
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not stored.exists()


def test_gc_after_deleting_the_only_repo_with_a_xet_file_frees_its_xorbs(plaza, api, repo_name, tmp_path):
    kept_repo, gone_repo = f"alice/{repo_name}-kept", f"alice/{repo_name}-gone"
    kept, gone = os.urandom(2_000_000), os.urandom(2_100_000)
    for repo_id, data in ((kept_repo, kept), (gone_repo, gone)):
        api.create_repo(repo_id)
        before = stored_files(plaza.data_dir / "xorbs")
        api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo_id)
        assert stored_files(plaza.data_dir / "xorbs") - before
        if repo_id == gone_repo:
            gone_xorbs = stored_files(plaza.data_dir / "xorbs") - before
    api.delete_repo(gone_repo)
    plaza.cli("admin", "gc", "--grace-hours", "0")
    assert not any(p.exists() for p in gone_xorbs)
    path = hf_hub_download(kept_repo, "w.bin", token=api.token, cache_dir=tmp_path)
    with open(path, "rb") as file:
        assert file.read() == kept
