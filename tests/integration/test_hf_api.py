"""The Hugging Face–compatible API, capability by capability, through the real ``huggingface_hub``
client (HfApi, hf_hub_download, snapshot_download, HfFileSystem) and, where the client hides the
HTTP details that matter (HEAD headers, Range, Link), through raw httpx."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder
from huggingface_hub.utils import paginate

FILES = {
    "config.json": b'{"hidden_size": 8}\n',
    "dir/a.txt": b"alpha\n",
    "dir/sub/b.json": b'{"b": 1}\n',
    "dir/my file.txt": b"spaces in the name\n",
    "other/c.json": b"[]\n",
}
CARD = """---
license: mit
tags:
- plaza-test
- tiny
pipeline_tag: text-classification
library_name: transformers
datasets:
- alice/some-data
base_model: alice/base-model
---
# A tiny model
"""


def add(files: dict[str, bytes]) -> list[CommitOperationAdd]:
    return [CommitOperationAdd(path, data) for path, data in files.items()]


def commit(api: HfApi, repo_id: str, files: dict[str, bytes], message: str = "Add files", **kwargs):
    return api.create_commit(repo_id, add(files), commit_message=message, **kwargs)


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def filled(api, repo_id) -> str:
    """alice's model repo holding FILES."""
    commit(api, repo_id, FILES)
    return repo_id


def fresh_fs(plaza, user: str = "alice") -> HfFileSystem:
    return HfFileSystem(endpoint=plaza.url, token=plaza.tokens[user], skip_instance_cache=True)


# --- repos: create, delete, settings, info -------------------------------------------------


def test_create_repo_exist_ok(api, repo_name):
    repo_id = f"alice/{repo_name}"
    url = api.create_repo(repo_id)
    assert url.repo_id == repo_id and url.repo_type == "model"
    assert url.endpoint.rstrip("/") == api.endpoint
    assert api.create_repo(repo_id, exist_ok=True).repo_id == repo_id
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo(repo_id)
    assert caught.value.response.status_code == 409


def test_create_repo_in_an_org_and_as_dataset(api, repo_name):
    url = api.create_repo(f"acme/{repo_name}", repo_type="dataset")
    assert (url.repo_id, url.repo_type) == (f"acme/{repo_name}", "dataset")
    assert api.dataset_info(f"acme/{repo_name}").author == "acme"
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"acme/{repo_name}")


@pytest.mark.parametrize("name", ["a b", "x" * 97, "..", "-lead", "a--b", "end.git", "ü", "", "a/b"])
def test_create_repo_refuses_invalid_names(plaza, api, name):
    # Sent by hand: the client itself refuses most of these before asking.
    response = httpx.post(
        f"{plaza.url}/api/repos/create", json={"name": name, "organization": "alice"}, headers=auth(api.token)
    )
    assert response.status_code == 400 and "Invalid" in response.json()["error"]
    listed = httpx.get(f"{plaza.url}/api/models", params={"author": "alice"}).json()
    assert f"alice/{name}" not in {m["id"] for m in listed}


def test_create_repo_refuses_foreign_and_unknown_namespaces(api, repo_name):
    for namespace in ("bob", f"nobody-{repo_name}"):
        with pytest.raises(HfHubHTTPError) as caught:
            api.create_repo(f"{namespace}/{repo_name}")
        assert caught.value.response.status_code == 403
    with pytest.raises(BadRequestError):
        api.create_repo(f"alice/{repo_name}", repo_type="space", space_sdk="static")


def test_private_repo(api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, private=True)
    assert api.model_info(repo_id).private is True
    assert api.repo_exists(repo_id)
    assert not api.repo_exists(repo_id, token=False)
    api.create_repo(f"{repo_id}-v", visibility="private")
    assert api.model_info(f"{repo_id}-v").private is True
    # Older clients send "private": true instead of "visibility".
    response = httpx.post(
        f"{api.endpoint}/api/repos/create",
        json={"name": f"{repo_name}-old", "organization": "alice", "private": True},
        headers=auth(api.token),
    )
    assert response.status_code == 200 and api.model_info(f"{repo_id}-old").private is True


def test_delete_repo_missing_ok(api, repo_id):
    api.delete_repo(repo_id)
    assert not api.repo_exists(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(repo_id)
    api.delete_repo(repo_id, missing_ok=True)
    # The name is free again: a new repo starts from scratch.
    api.create_repo(repo_id)
    assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_update_repo_settings_private(api, repo_id):
    api.update_repo_settings(repo_id, private=True)
    assert api.model_info(repo_id).private is True
    assert not api.repo_exists(repo_id, token=False)
    api.update_repo_settings(repo_id, private=False)
    assert api.model_info(repo_id).private is False
    assert api.repo_exists(repo_id, token=False)


def test_update_repo_settings_needs_the_namespace_admin(plaza, api, repo_name):
    repo_id = f"acme/{repo_name}"
    api.create_repo(repo_id)
    bob = HfApi(endpoint=plaza.url, token=plaza.tokens["bob"])
    with pytest.raises(HfHubHTTPError) as caught:
        bob.update_repo_settings(repo_id, private=True)
    assert caught.value.response.status_code == 403
    assert api.model_info(repo_id).private is False


def test_repo_info_at_each_kind_of_revision(api, repo_id):
    first = commit(api, repo_id, {"one.txt": b"1"}).oid
    api.create_tag(repo_id, tag="v1")
    head = commit(api, repo_id, {"two.txt": b"2"}).oid
    api.create_branch(repo_id, branch="old", revision=first)

    def files(revision: str | None) -> set[str]:
        return {s.rfilename for s in api.repo_info(repo_id, revision=revision).siblings}

    assert api.model_info(repo_id).sha == head
    assert files(None) == {".gitattributes", "one.txt", "two.txt"}
    for revision in ("v1", "old", first, first[:7], "refs/tags/v1", "refs/heads/old"):
        info = api.model_info(repo_id, revision=revision)
        assert info.sha == first, revision
        assert files(revision) == {".gitattributes", "one.txt"}
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo_id, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo_id, revision="0" * 40)


def test_repo_info_fields_and_files_metadata(api, repo_id, no_xet):
    weights = os.urandom(2048)
    commit(api, repo_id, {"config.json": b"{}", "model.safetensors": weights})
    info = api.model_info(repo_id, files_metadata=True)
    assert info.id == repo_id and info.author == "alice" and info.private is False
    assert len(info.sha) == 40 and info.created_at and info.last_modified
    assert info.downloads == 0 and info.gated is False and info.disabled is False
    siblings = {s.rfilename: s for s in info.siblings}
    assert siblings["config.json"].size == 2 and siblings["config.json"].lfs is None
    assert siblings["config.json"].blob_id == git_blob_oid(b"{}")
    lfs = siblings["model.safetensors"].lfs
    assert siblings["model.safetensors"].size == 2048
    assert lfs.sha256 == hashlib.sha256(weights).hexdigest() and lfs.size == 2048
    assert lfs.pointer_size > 100
    assert api.repo_info(repo_id).siblings[0].size is None  # Only with files_metadata.


def test_dataset_info(api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    sha = commit(api, repo_id, {"data/train.csv": b"a,b\n1,2\n"}, repo_type="dataset").oid
    api.create_tag(repo_id, tag="v0", repo_type="dataset")
    info = api.dataset_info(repo_id, revision="v0", files_metadata=True)
    assert info.id == repo_id and info.sha == sha
    assert {s.rfilename for s in info.siblings} == {".gitattributes", "data/train.csv"}
    assert api.repo_info(repo_id, repo_type="dataset").sha == sha


def test_repo_exists_and_file_exists(api, filled, repo_name):
    assert api.repo_exists(filled)
    assert not api.repo_exists(f"alice/missing-{repo_name}")
    assert not api.repo_exists(filled, repo_type="dataset")
    assert api.file_exists(filled, "dir/sub/b.json")
    assert api.file_exists(filled, "dir/my file.txt")
    assert not api.file_exists(filled, "dir/nope.json")
    assert not api.file_exists(filled, "dir")  # A folder is not a file.
    assert not api.file_exists(f"alice/missing-{repo_name}", "config.json")
    assert not api.file_exists(filled, "config.json", revision="no-such-branch")


def test_unknown_repo_revision_and_file_raise_the_client_errors(api, filled, repo_name, tmp_path):
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"alice/missing-{repo_name}")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"nobody-{repo_name}/x")
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_files(filled, revision="nope")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(filled, "missing.json", token=api.token, cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(filled, "config.json", revision="nope", token=api.token, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"alice/missing-{repo_name}", "x", token=api.token, cache_dir=tmp_path)


# --- listing and search --------------------------------------------------------------------


@pytest.fixture
def trio(plaza, api, tmp_path) -> list[str]:
    """Three public repos sharing a unique search word, created in order; the middle one is
    downloaded twice and the first one modified last."""
    word = f"trio{uuid.uuid4().hex[:8]}"
    ids = [f"alice/{word}-{n}" for n in ("one", "two", "three")]
    for repo_id in ids:
        api.create_repo(repo_id)
    commit(api, ids[1], {"f.txt": b"x"})
    for _ in range(2):
        hf_hub_download(ids[1], "f.txt", token=api.token, cache_dir=tmp_path, force_download=True)
    commit(api, ids[0], {"g.txt": b"y"})
    return ids


def test_list_models_search_and_author(api, trio):
    word = trio[0].split("/")[1].rsplit("-", 1)[0]
    assert {m.id for m in api.list_models(search=word)} == set(trio)
    assert {m.id for m in api.list_models(search=word.upper())} == set(trio)
    assert {m.id for m in api.list_models(search=f"{word}-tw")} == {trio[1]}
    assert {m.id for m in api.list_models(search=word, author="alice")} == set(trio)
    assert list(api.list_models(search=word, author="bob")) == []
    assert list(api.list_datasets(search=word)) == []
    # Wildcards of SQL LIKE are plain characters in a search.
    assert list(api.list_models(search=f"{word[:4]}%")) == []
    assert list(api.list_models(search="_" * 30)) == []


def test_list_models_sort_and_limit(api, trio):
    word = trio[0].split("/")[1].rsplit("-", 1)[0]

    def ids(sort: str, **kwargs) -> list[str]:
        return [m.id for m in api.list_models(search=word, sort=sort, **kwargs)]

    assert ids("downloads")[0] == trio[1]
    assert [m.downloads for m in api.list_models(search=word, sort="downloads")] == [2, 0, 0]
    assert ids("created_at") == trio[::-1]
    assert ids("last_modified")[0] == trio[0]
    assert ids("created_at", limit=2) == trio[:0:-1]
    assert len(list(api.list_models(search=word, limit=1))) == 1


def test_list_models_refuses_an_unknown_sort(api):
    with pytest.raises(BadRequestError):
        list(api.list_models(sort="popularity"))


def test_list_pages_follow_the_link_header(plaza, api, trio):
    word = trio[0].split("/")[1].rsplit("-", 1)[0]
    url = f"{plaza.url}/api/models"
    first = httpx.get(url, params={"search": word, "sort": "createdAt", "limit": 2})
    assert [m["id"] for m in first.json()] == trio[:0:-1]
    assert first.links["next"]["url"].startswith(plaza.url)
    second = httpx.get(first.links["next"]["url"])
    assert [m["id"] for m in second.json()] == trio[:1] and "next" not in second.links
    # The client's own pager walks the pages.
    paged = paginate(url, params={"search": word, "sort": "createdAt", "limit": 1}, headers={})
    assert [m["id"] for m in paged] == trio[::-1]


def test_list_models_filter_by_card_tags(api, repo_id):
    tag = f"tag-{uuid.uuid4().hex[:8]}"
    commit(api, repo_id, {"README.md": CARD.replace("plaza-test", tag).encode()})
    assert [m.id for m in api.list_models(filter=tag)] == [repo_id]
    assert [m.id for m in api.list_models(filter=[tag, "license:mit"])] == [repo_id]
    assert list(api.list_models(filter=[tag, "license:apache-2.0"])) == []
    assert [m.id for m in api.list_models(filter=tag, pipeline_tag="text-classification")] == [repo_id]
    found = next(iter(api.list_models(filter=tag, cardData=True)))
    assert found.card_data["license"] == "mit" and found.siblings is None
    found = next(iter(api.list_models(filter=tag, full=True)))
    assert {s.rfilename for s in found.siblings} == {".gitattributes", "README.md"}


def test_list_datasets(api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    assert [d.id for d in api.list_datasets(search=repo_name)] == [repo_id]
    assert [d.id for d in api.list_datasets(search=repo_name, author="alice")] == [repo_id]
    assert list(api.list_models(search=repo_name)) == []


# --- uploads and commits -------------------------------------------------------------------


def test_upload_file(api, repo_id, tmp_path):
    source = tmp_path / "weights.txt"
    source.write_bytes(b"from disk\n")
    info = api.upload_file(path_or_fileobj=source, path_in_repo="deep/er/w.txt", repo_id=repo_id)
    assert info.oid == api.model_info(repo_id).sha
    assert info.commit_url == f"{api.endpoint}/{repo_id}/commit/{info.oid}"
    api.upload_file(path_or_fileobj=b"bytes\n", path_in_repo="b.txt", repo_id=repo_id)
    path = hf_hub_download(repo_id, "deep/er/w.txt", token=api.token, cache_dir=tmp_path / "c")
    assert Path(path).read_bytes() == b"from disk\n"
    assert set(api.list_repo_files(repo_id)) == {".gitattributes", "deep/er/w.txt", "b.txt"}


def raw_commit(plaza, token: str, repo_id: str, operations: list[dict]) -> httpx.Response:
    """A commit sent by hand, as a client that checks nothing itself would send it."""
    lines = [{"key": "header", "value": {"summary": "By hand"}}, *operations]
    return httpx.post(
        f"{plaza.url}/api/models/{repo_id}/commit/main",
        content="\n".join(json.dumps(line) for line in lines),
        headers={**auth(token), "Content-Type": "application/x-ndjson"},
    )


def inline(path: str, data: bytes) -> dict:
    return {
        "key": "file",
        "value": {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"},
    }


BAD_PATHS = (
    "../escape.txt",
    "a/../../b.txt",
    "/abs.txt",
    "a\\b.txt",
    "a//b.txt",
    "a/./b.txt",
    "nul\x00.txt",
    "",
)


def test_upload_file_refuses_bad_paths(plaza, api, repo_id):
    for bad in ("a\\b.txt", "a//b.txt", "a/./b.txt", "nul\x00.txt"):
        with pytest.raises(BadRequestError, match="Invalid path"):
            api.upload_file(path_or_fileobj=b"x", path_in_repo=bad, repo_id=repo_id)
    for bad in BAD_PATHS:
        response = raw_commit(plaza, api.token, repo_id, [inline(bad, b"x")])
        assert response.status_code == 400, bad
        assert "Invalid path" in response.json()["error"]
    assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_upload_folder_with_patterns(api, repo_id, tmp_path):
    folder = tmp_path / "folder"
    for rel in ("keep.json", "sub/keep.json", "sub/skip.txt", "logs/run.log", "notes.md"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(rel)
    api.upload_folder(
        repo_id=repo_id, folder_path=folder, allow_patterns=["*.json", "logs/*"], ignore_patterns="*.log"
    )
    assert set(api.list_repo_files(repo_id)) == {".gitattributes", "keep.json", "sub/keep.json"}
    api.upload_folder(repo_id=repo_id, folder_path=folder / "sub", path_in_repo="copied")
    assert {"copied/keep.json", "copied/skip.txt"} <= set(api.list_repo_files(repo_id))


def test_upload_folder_with_many_files(api, repo_id, tmp_path):
    folder = tmp_path / "many"
    names = [f"shard-{i // 100}/item-{i:03d}.txt" for i in range(320)]
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name[-5])  # Ten distinct blobs: cheap to store.
    api.upload_folder(repo_id=repo_id, folder_path=folder)
    assert sorted(api.list_repo_files(repo_id)) == sorted([".gitattributes", *names])
    assert len(list(api.list_repo_tree(repo_id, "shard-2"))) == 100
    # Unchanged files are skipped: uploading again makes no new commit.
    head = api.model_info(repo_id).sha
    api.upload_folder(repo_id=repo_id, folder_path=folder)
    assert api.model_info(repo_id).sha == head


def test_tree_listing_pages_past_1000_entries(plaza, api, repo_id):
    # A folder name with characters that must be escaped in a Link header.
    names = [f"d; <x>, y/f{i:04d}.txt" for i in range(1010)]
    commit(api, repo_id, {name: b"same" for name in names})  # One blob: cheap to store.
    assert sorted(api.list_repo_files(repo_id)) == sorted([".gitattributes", *names])
    assert [e.path for e in api.list_repo_tree(repo_id, "d; <x>, y")] == names
    sha = api.model_info(repo_id).sha
    url = f"{plaza.url}/api/models/{repo_id}/tree/main/{quote('d; <x>, y', safe='')}"
    first = httpx.get(url, params={"recursive": "false"}, headers=auth(api.token))
    assert len(first.json()) == 1000
    # The next page is pinned to the commit the first page came from.
    next_url = first.links["next"]["url"]
    assert next_url.startswith(f"{plaza.url}/api/models/{repo_id}/tree/{sha}/")
    assert "recursive=false" in next_url and not set(" ;<>,") & set(next_url)
    second = httpx.get(next_url, headers=auth(api.token))
    assert [e["path"] for e in second.json()] == names[1000:] and "next" not in second.links


def test_create_commit_deletes_a_file_and_a_folder(api, filled):
    api.create_commit(
        filled,
        [CommitOperationDelete("config.json"), CommitOperationDelete("dir/")],
        commit_message="Clean up",
    )
    assert set(api.list_repo_files(filled)) == {".gitattributes", "other/c.json"}
    assert api.list_repo_commits(filled)[0].title == "Clean up"


def test_create_commit_refuses_deleting_what_is_not_there(api, filled):
    head = api.model_info(filled).sha
    for path in ("nope.txt", "nodir/"):
        with pytest.raises(EntryNotFoundError):
            api.create_commit(filled, [CommitOperationDelete(path)], commit_message="Delete nothing")
    assert api.model_info(filled).sha == head


def test_create_commit_is_atomic(api, filled):
    head = api.model_info(filled).sha
    operations = [CommitOperationAdd("new.txt", b"new"), CommitOperationDelete("missing.txt")]
    with pytest.raises(HfHubHTTPError):
        api.create_commit(filled, operations, commit_message="Half")
    assert api.model_info(filled).sha == head
    assert not api.file_exists(filled, "new.txt")


def test_create_commit_with_a_stale_parent_is_refused(api, filled):
    parent = api.model_info(filled).sha
    commit(api, filled, {"x.txt": b"1"}, parent_commit=parent)
    with pytest.raises(HfHubHTTPError) as caught:
        commit(api, filled, {"y.txt": b"2"}, parent_commit=parent)
    assert caught.value.response.status_code == 412
    assert not api.file_exists(filled, "y.txt")


def test_create_commit_copies_files(api, filled, no_xet, tmp_path):
    commit(api, filled, {"weights.bin": os.urandom(300)})
    api.create_commit(
        filled,
        [
            CommitOperationCopy("config.json", "copies/config.json"),
            CommitOperationCopy("weights.bin", "copies/weights.bin"),
        ],
        commit_message="Copy",
    )
    tree = {f.path: f for f in api.list_repo_tree(filled, "copies")}
    assert tree["copies/weights.bin"].lfs.sha256 == next(
        f.lfs.sha256 for f in api.list_repo_tree(filled) if f.path == "weights.bin"
    )
    path = hf_hub_download(filled, "copies/config.json", token=api.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == FILES["config.json"]


# --- browsing: files, tree, paths-info, refs, commits --------------------------------------


def test_list_repo_files(api, filled):
    assert sorted(api.list_repo_files(filled)) == sorted([".gitattributes", *FILES])


def test_list_repo_tree(api, filled):
    top = {e.path: type(e) for e in api.list_repo_tree(filled)}
    assert top == {
        ".gitattributes": RepoFile,
        "config.json": RepoFile,
        "dir": RepoFolder,
        "other": RepoFolder,
    }
    inside = {e.path for e in api.list_repo_tree(filled, "dir")}
    assert inside == {"dir/a.txt", "dir/my file.txt", "dir/sub"}
    deep = {e.path for e in api.list_repo_tree(filled, "dir", recursive=True)}
    assert deep == {"dir/a.txt", "dir/my file.txt", "dir/sub", "dir/sub/b.json"}
    everything = list(api.list_repo_tree(filled, recursive=True))
    assert {e.path for e in everything if isinstance(e, RepoFile)} == {".gitattributes", *FILES}
    assert [e.path for e in api.list_repo_tree(filled, "dir/sub")] == ["dir/sub/b.json"]
    entry = next(e for e in everything if e.path == "dir/a.txt")
    assert entry.size == 6 and entry.blob_id == git_blob_oid(b"alpha\n")
    folder = next(e for e in everything if e.path == "dir")
    assert len(folder.tree_id) == 40


def test_list_repo_tree_of_a_missing_folder(api, filled):
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(filled, "nope"))
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(filled, "config.json"))
    with pytest.raises(RevisionNotFoundError):
        list(api.list_repo_tree(filled, revision="nope"))


def test_get_paths_info(api, filled):
    found = api.get_paths_info(filled, ["config.json", "dir/sub", "missing.txt", "dir/my file.txt"])
    by_path = {e.path: e for e in found}
    assert set(by_path) == {"config.json", "dir/sub", "dir/my file.txt"}
    assert isinstance(by_path["dir/sub"], RepoFolder)
    assert by_path["config.json"].size == len(FILES["config.json"])
    assert api.get_paths_info(filled, ["nothing/here"]) == []


def test_refs_branches_and_tags(api, filled):
    head = api.model_info(filled).sha
    api.create_branch(filled, branch="dev")
    api.create_branch(filled, branch="dev", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_branch(filled, branch="dev")
    assert caught.value.response.status_code == 409
    api.create_tag(filled, tag="v1.0", tag_message="First release")
    api.create_tag(filled, tag="v1.0", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_tag(filled, tag="v1.0")
    assert caught.value.response.status_code == 409
    refs = api.list_repo_refs(filled)
    assert {(b.name, b.ref, b.target_commit) for b in refs.branches} == {
        ("main", "refs/heads/main", head),
        ("dev", "refs/heads/dev", head),
    }
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", head)]
    assert refs.converts == [] and api.list_repo_refs(filled, include_pull_requests=True).pull_requests == []

    api.delete_branch(filled, branch="dev")
    api.delete_tag(filled, tag="v1.0")
    refs = api.list_repo_refs(filled)
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []
    with pytest.raises(RevisionNotFoundError):
        api.delete_branch(filled, branch="dev")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(filled, tag="v1.0")
    with pytest.raises(HfHubHTTPError) as caught:
        api.delete_branch(filled, branch="main")
    assert caught.value.response.status_code == 403


def test_branch_from_a_revision_and_commits_on_it(api, filled, tmp_path):
    first = api.model_info(filled).sha
    commit(api, filled, {"config.json": b"{}"})
    api.create_tag(filled, tag="before", revision=first)
    api.create_branch(filled, branch="from-tag", revision="before")
    api.create_branch(filled, branch="from-sha", revision=first[:8])
    refs = {b.name: b.target_commit for b in api.list_repo_refs(filled).branches}
    assert refs["from-tag"] == refs["from-sha"] == first
    sha = commit(api, filled, {"only-here.txt": b"x"}, revision="from-tag").oid
    assert api.model_info(filled, revision="from-tag").sha == sha
    assert not api.file_exists(filled, "only-here.txt")
    assert api.file_exists(filled, "only-here.txt", revision="from-tag")
    with pytest.raises(RevisionNotFoundError):
        api.create_branch(filled, branch="orphan", revision="no-such-rev")
    with pytest.raises(RevisionNotFoundError):
        api.create_tag(filled, tag="orphan", revision="no-such-rev")


def test_bad_ref_names_are_refused(api, filled):
    for bad in ("refs/pr/1", "a..b", "with space", "end.lock", "-x", "a//b", "x~1", "a:b"):
        with pytest.raises(BadRequestError):
            api.create_branch(filled, branch=bad)
    assert [b.name for b in api.list_repo_refs(filled).branches] == ["main"]


def test_branch_names_with_slashes(api, filled, tmp_path):
    api.create_branch(filled, branch="feature/deep/x")
    commit(api, filled, {"config.json": b'{"on": "feature"}'}, revision="feature/deep/x")
    api.create_tag(filled, tag="release/1", revision="feature/deep/x")
    assert "feature/deep/x" in {b.name for b in api.list_repo_refs(filled).branches}
    for revision in ("feature/deep/x", "release/1"):
        path = hf_hub_download(
            filled, "config.json", revision=revision, token=api.token, cache_dir=tmp_path / revision
        )
        assert Path(path).read_bytes() == b'{"on": "feature"}'
        assert len(api.list_repo_commits(filled, revision=revision)) == 3
        assert "config.json" in {e.path for e in api.list_repo_tree(filled, revision=revision)}
    api.delete_tag(filled, tag="release/1")
    api.delete_branch(filled, branch="feature/deep/x")
    assert [b.name for b in api.list_repo_refs(filled).branches] == ["main"]


def test_list_repo_commits_newest_first_over_several_pages(api, repo_id):
    for i in range(55):
        commit(
            api, repo_id, {"counter.txt": str(i).encode()}, message=f"Step {i}", commit_description=f"n={i}"
        )
    history = api.list_repo_commits(repo_id)
    assert len(history) == 56  # Two pages of 50 plus the initial commit.
    assert [c.title for c in history[:2]] == ["Step 54", "Step 53"]
    assert history[0].message == "n=54" and history[0].authors == ["alice"]
    assert history[-1].title == "initial commit"
    assert history[0].commit_id == api.model_info(repo_id).sha
    dates = [c.created_at for c in history]
    assert dates == sorted(dates, reverse=True)
    assert len({c.commit_id for c in history}) == 56
    older = api.list_repo_commits(repo_id, revision=history[10].commit_id)
    assert [c.commit_id for c in older] == [c.commit_id for c in history[10:]]


def test_whoami(plaza, api):
    me = api.whoami()
    assert me["name"] == "alice" and me["type"] == "user"
    assert "acme" in {o["name"] for o in me["orgs"]}  # other tests create orgs of alice's too
    assert me["auth"]["accessToken"]["role"] == "write"
    reader = HfApi(endpoint=plaza.url, token=plaza.tokens["alice-read"]).whoami()
    assert reader["name"] == "alice" and reader["auth"]["accessToken"]["role"] == "read"
    assert HfApi(endpoint=plaza.url, token=plaza.tokens["bob"]).whoami()["name"] == "bob"


def test_whoami_refuses_missing_and_wrong_tokens(plaza):
    with pytest.raises(HfHubHTTPError):
        HfApi(endpoint=plaza.url, token="plz_000000000000notatoken").whoami()
    response = httpx.get(f"{plaza.url}/api/whoami-v2", headers=auth("plz_wrong"))
    assert response.status_code == 401
    assert response.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    assert httpx.get(f"{plaza.url}/api/whoami-v2").status_code == 401


# --- downloads -----------------------------------------------------------------------------


def test_hf_hub_download_at_revisions(api, filled, tmp_path):
    first = api.model_info(filled).sha
    api.create_tag(filled, tag="v1")
    commit(api, filled, {"config.json": b'{"hidden_size": 16}\n'})

    def get(filename: str, revision: str | None = None) -> bytes:
        cache = tmp_path / str(revision)
        return Path(
            hf_hub_download(filled, filename, revision=revision, token=api.token, cache_dir=cache)
        ).read_bytes()

    assert get("config.json") == b'{"hidden_size": 16}\n'
    for revision in ("v1", first, "refs/tags/v1"):
        assert get("config.json", revision) == FILES["config.json"]
    assert get("dir/sub/b.json") == FILES["dir/sub/b.json"]
    assert get("dir/my file.txt", "v1") == FILES["dir/my file.txt"]


def test_hf_hub_download_of_a_dataset_file(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    commit(api, repo_id, {"data/train.csv": b"a\n1\n"}, repo_type="dataset")
    path = hf_hub_download(
        repo_id, "data/train.csv", repo_type="dataset", token=api.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"a\n1\n"


def test_resolve_head_headers(plaza, api, filled):
    sha = api.model_info(filled).sha
    data = FILES["dir/my file.txt"]
    url = f"{plaza.url}/{filled}/resolve/main/dir/my%20file.txt"
    head = httpx.head(url, headers=auth(api.token))
    assert head.status_code == 200
    assert head.headers["X-Repo-Commit"] == sha
    assert head.headers["ETag"] == f'"{git_blob_oid(data)}"'
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Accept-Ranges"] == "bytes"
    assert not any(h.lower().startswith("x-xet") for h in head.headers)
    missing = httpx.head(f"{plaza.url}/{filled}/resolve/main/nope.txt", headers=auth(api.token))
    assert missing.status_code == 404
    assert missing.headers["X-Error-Code"] == "EntryNotFound" and missing.headers["X-Repo-Commit"] == sha
    folder = httpx.get(f"{plaza.url}/{filled}/resolve/main/dir", headers=auth(api.token))
    assert folder.status_code == 404 and folder.headers["X-Error-Code"] == "EntryNotFound"
    bad_rev = httpx.head(f"{plaza.url}/{filled}/resolve/nope/config.json", headers=auth(api.token))
    assert bad_rev.headers["X-Error-Code"] == "RevisionNotFound" and "X-Repo-Commit" not in bad_rev.headers


def test_resolve_range_requests(plaza, api, repo_id):
    data = b"0123456789abcdef" * 64
    commit(api, repo_id, {"blob.txt": data})
    url = f"{plaza.url}/{repo_id}/resolve/main/blob.txt"
    for header, start, end in (
        ("bytes=10-19", 10, 19),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-5", 1019, 1023),
        ("bytes=1020-5000", 1020, 1023),
    ):
        response = httpx.get(url, headers={**auth(api.token), "Range": header})
        assert response.status_code == 206, header
        assert response.headers["Content-Range"] == f"bytes {start}-{end}/1024"
        assert response.content == data[start : end + 1]
        assert response.headers["Content-Length"] == str(end - start + 1)
    for header in ("bytes=1024-", "bytes=2000-3000", "bytes=50-10"):
        response = httpx.get(url, headers={**auth(api.token), "Range": header})
        assert response.status_code == 416, header
        assert response.headers["Content-Range"] == "bytes */1024"
    whole = httpx.get(url, headers={**auth(api.token), "Range": "bytes=0-1,5-6"})
    assert whole.status_code == 200 and whole.content == data


def test_downloads_one_after_another_on_one_connection(plaza, api, repo_id, no_xet):
    """Ranges and the whole file, one after the other on one kept-alive connection: each answer
    is exactly its bytes, so nothing of one leaks into the next, however the server sends them."""
    data = os.urandom(3 << 20)
    commit(api, repo_id, {"weights.bin": data})
    address = urlsplit(plaza.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    last = len(data) - 1
    local_addresses = set()
    try:
        for byte_range in ((100, 1_500_000), (2_000_000, last), None, (7, 7), (0, last)):
            start, end = byte_range or (0, last)
            headers = auth(api.token) | ({} if byte_range is None else {"Range": f"bytes={start}-{end}"})
            connection.request("GET", f"/{repo_id}/resolve/main/weights.bin", headers=headers)
            response = connection.getresponse()
            body = response.read()
            assert body == data[start : end + 1]
            assert response.headers["Content-Length"] == str(len(body))
            assert connection.sock is not None, "the server closed the connection"
            local_addresses.add(connection.sock.getsockname())
    finally:
        connection.close()
    assert len(local_addresses) == 1


def test_snapshot_download(api, filled, tmp_path):
    first = api.model_info(filled).sha
    commit(api, filled, {"late.json": b"{}"})
    folder = Path(
        snapshot_download(filled, allow_patterns=["*.json"], token=api.token, cache_dir=tmp_path / "a")
    )
    got = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert got == {"config.json", "dir/sub/b.json", "other/c.json", "late.json"}
    assert (folder / "dir/sub/b.json").read_bytes() == FILES["dir/sub/b.json"]
    old = Path(snapshot_download(filled, revision=first, token=api.token, cache_dir=tmp_path / "b"))
    assert old.name == first
    got = {str(p.relative_to(old)) for p in old.rglob("*") if p.is_file()}
    assert got == {".gitattributes", *FILES}
    assert (old / "dir/my file.txt").read_bytes() == FILES["dir/my file.txt"]


def test_snapshot_download_into_a_local_dir(api, filled, tmp_path):
    api.create_tag(filled, tag="v2")
    target = tmp_path / "local"
    snapshot_download(filled, revision="v2", local_dir=target, allow_patterns="dir/*", token=api.token)
    assert (target / "dir/a.txt").read_bytes() == FILES["dir/a.txt"]
    assert not (target / "config.json").exists()


def test_downloads_are_counted(api, filled, tmp_path):
    before = api.model_info(filled).downloads
    hf_hub_download(filled, "config.json", token=api.token, cache_dir=tmp_path)
    assert api.model_info(filled).downloads == before + 1
    # A cached file at a sha is not fetched again, so not counted again.
    sha = api.model_info(filled).sha
    hf_hub_download(filled, "config.json", revision=sha, token=api.token, cache_dir=tmp_path)
    assert api.model_info(filled).downloads == before + 1


# --- HfFileSystem --------------------------------------------------------------------------


def test_hffilesystem_ls_glob_info_exists(plaza, filled):
    fs = fresh_fs(plaza)
    assert set(fs.ls(filled, detail=False)) == {
        f"{filled}/{n}" for n in (".gitattributes", "config.json", "dir", "other")
    }
    assert set(fs.ls(f"{filled}/dir", detail=False)) == {
        f"{filled}/dir/{n}" for n in ("a.txt", "my file.txt", "sub")
    }
    assert sorted(fs.glob(f"{filled}/**/*.json")) == sorted(
        f"{filled}/{n}" for n in ("config.json", "dir/sub/b.json", "other/c.json")
    )
    info = fs.info(f"{filled}/dir/sub/b.json")
    assert info["type"] == "file" and info["size"] == len(FILES["dir/sub/b.json"])
    assert fs.info(f"{filled}/dir")["type"] == "directory"
    assert fs.exists(f"{filled}/dir/my file.txt") and fs.isdir(f"{filled}/dir")
    assert not fs.exists(f"{filled}/dir/nope.txt")
    assert not fresh_fs(plaza).exists(f"alice/missing-{uuid.uuid4().hex[:6]}/x")


def test_hffilesystem_open_and_ranged_read(plaza, api, repo_id):
    data = os.urandom(100_000).hex().encode()  # Text, so a regular file.
    commit(api, repo_id, {"big.txt": data})
    api.create_branch(repo_id, branch="b/1")
    commit(api, repo_id, {"big.txt": b"changed"})
    fs = fresh_fs(plaza)
    with fs.open(f"{repo_id}/big.txt", "rb") as f:
        assert f.read() == b"changed"
    with fs.open(f"{repo_id}@b%2F1/big.txt", "rb", block_size=1024) as f:
        f.seek(150_000)
        assert f.read(10) == data[150_000:150_010]
        f.seek(-5, os.SEEK_END)
        assert f.read() == data[-5:]
    assert fs.cat_file(f"{repo_id}/big.txt", start=2, end=5) == b"ang"


def test_hffilesystem_on_datasets(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    commit(api, repo_id, {"data/train.csv": b"x\n1\n", "data/test.csv": b"x\n2\n"}, repo_type="dataset")
    fs = fresh_fs(plaza)
    assert sorted(fs.glob(f"datasets/{repo_id}/data/*.csv")) == [
        f"datasets/{repo_id}/data/test.csv",
        f"datasets/{repo_id}/data/train.csv",
    ]
    assert fs.read_bytes(f"datasets/{repo_id}/data/test.csv") == b"x\n2\n"


# --- README metadata -----------------------------------------------------------------------


def test_readme_metadata_reaches_model_info(api, repo_id):
    commit(api, repo_id, {"README.md": CARD.encode()})
    info = api.model_info(repo_id)
    assert info.pipeline_tag == "text-classification"
    assert info.library_name == "transformers"
    assert {
        "plaza-test",
        "tiny",
        "license:mit",
        "dataset:alice/some-data",
        "base_model:alice/base-model",
    } <= set(info.tags)
    assert info.card_data.license == "mit"
    assert info.card_data.base_model == "alice/base-model"
    assert info.card_data.datasets == ["alice/some-data"]
    # Removing the card removes what it said.
    api.delete_file("README.md", repo_id)
    info = api.model_info(repo_id)
    assert info.pipeline_tag is None and "license:mit" not in info.tags


def test_readme_metadata_on_a_branch_leaves_the_repo_metadata_alone(api, repo_id):
    commit(api, repo_id, {"README.md": CARD.encode()})
    api.create_branch(repo_id, branch="draft")
    commit(api, repo_id, {"README.md": b"---\nlicense: apache-2.0\n---\n"}, revision="draft")
    assert api.model_info(repo_id).card_data.license == "mit"


def test_readme_with_invalid_yaml_is_refused(plaza, api, repo_id):
    head = api.model_info(repo_id).sha
    broken = b"---\nlicense: [mit\ntags: {\n---\n# Broken\n"
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_file(path_or_fileobj=broken, path_in_repo="README.md", repo_id=repo_id)
    assert api.model_info(repo_id).sha == head
    # The commit endpoint refuses it too, for clients that skip validate-yaml.
    response = raw_commit(plaza, api.token, repo_id, [inline("README.md", broken)])
    assert response.status_code == 400 and "Invalid metadata in README.md" in response.json()["error"]
    assert api.model_info(repo_id).sha == head


def test_readme_metadata_that_is_not_a_mapping_is_refused(api, repo_id):
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_file(path_or_fileobj=b"---\n- a\n- b\n---\n", path_in_repo="README.md", repo_id=repo_id)
    assert api.list_repo_files(repo_id) == [".gitattributes"]


# --- large files (LFS) ---------------------------------------------------------------------


def test_large_file_through_lfs(api, repo_id, no_xet, tmp_path):
    data = os.urandom(12 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=source, path_in_repo="weights/big.bin", repo_id=repo_id)
    entry = next(e for e in api.list_repo_tree(repo_id, "weights"))
    sha256 = hashlib.sha256(data).hexdigest()
    assert entry.size == len(data)
    assert entry.lfs.sha256 == sha256 and entry.lfs.size == len(data)
    assert entry.xet_hash is None
    path = hf_hub_download(repo_id, "weights/big.bin", token=api.token, cache_dir=tmp_path / "c")
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha256
    head = httpx.head(f"{api.endpoint}/{repo_id}/resolve/main/weights/big.bin", headers=auth(api.token))
    assert head.headers["X-Linked-Etag"] == f'"{sha256}"' and head.headers["X-Linked-Size"] == str(len(data))
    # The same content again is already held: the commit references it without a new upload.
    api.upload_file(path_or_fileobj=source, path_in_repo="copy.bin", repo_id=repo_id)
    assert next(e for e in api.list_repo_tree(repo_id) if e.path == "copy.bin").lfs.sha256 == sha256
