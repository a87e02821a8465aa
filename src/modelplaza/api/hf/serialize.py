"""Domain objects in the JSON shapes the Hugging Face clients read (see the HTTP spec)."""

from __future__ import annotations

from fastapi import Request

from modelplaza.db.models import Commit, Ref, Repo
from modelplaza.http.context import URL_PREFIX, public_url
from modelplaza.http.shapes import iso
from modelplaza.hub.gitobj import lfs_pointer
from modelplaza.hub.trees import FileEntry, Item, Snapshot


def repo_url(request: Request, repo: Repo) -> str:
    return f"{public_url(request)}/{URL_PREFIX[repo.type]}{repo.repo_id}"


def repo_info(
    repo: Repo, sha: str | None, snapshot: Snapshot | None, *, blobs: bool, tags: list[str] | None = None
) -> dict:
    """The repo as the HF clients read it; ``tags`` when the caller read them already."""
    info: dict[str, object] = {
        "_id": str(repo.id),
        "id": repo.repo_id,
        "author": repo.namespace,
        "sha": sha,
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "lastModified": iso(repo.last_modified),
        "createdAt": iso(repo.created_at),
        "downloads": repo.downloads,
        "likes": repo.likes,
        "tags": list(repo.tags if tags is None else tags),
        "cardData": repo.card_data or {},
    }
    if repo.type == "model":
        info["modelId"] = repo.repo_id
        info["pipeline_tag"] = repo.pipeline_tag
        info["library_name"] = repo.library_name
    if snapshot is not None:
        info["siblings"] = [_sibling(path, entry, blobs) for path, entry in snapshot.files.items()]
        info["usedStorage"] = sum(e.size for e in snapshot.files.values())
    return info


def _sibling(path: str, entry: FileEntry, blobs: bool) -> dict:
    sibling: dict[str, object] = {"rfilename": path}
    if blobs:
        sibling.update(size=entry.size, blobId=entry.git_oid)
        if entry.lfs:
            sibling["lfs"] = _lfs(entry, key="sha256")
    return sibling


def _lfs(entry: FileEntry, key: str) -> dict:
    return {
        key: entry.sha256,
        "size": entry.size,
        "pointerSize": len(lfs_pointer(entry.sha256, entry.size)),
    }


def tree_item(item: Item, xet_hashes: dict[str, str] | None = None) -> dict:
    """``xet_hashes`` (sha256 -> Xet file hash) only when Xet downloads are advertised."""
    entry = item.file
    if entry is None:
        return {"type": "directory", "oid": item.oid, "size": 0, "path": item.path}
    result: dict[str, object] = {"type": "file", "oid": entry.git_oid, "size": entry.size, "path": item.path}
    if entry.lfs:
        result["lfs"] = _lfs(entry, key="oid")
        if xet_hashes and entry.sha256 in xet_hashes:
            result["xetHash"] = xet_hashes[entry.sha256]
    return result


def ref(item: Ref) -> dict:
    prefix = "refs/heads/" if item.kind == "branch" else "refs/tags/"
    return {"name": item.name, "ref": prefix + item.name, "targetCommit": item.commit_id}


def commit(item: Commit) -> dict:
    return {
        "id": item.id,
        "title": item.title,
        "message": item.message,
        "date": iso(item.created_at),
        "authors": [{"user": item.author}],
    }
