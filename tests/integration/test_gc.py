"""`plaza admin gc` frees what nothing reaches any more, and never what is still referenced."""

from __future__ import annotations

import hashlib
import os

import httpx
from huggingface_hub import hf_hub_download


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
