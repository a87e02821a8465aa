"""Every bad input gets a clear error and loses nothing: invalid names and paths, oversized files,
unknown repos/revisions/files, bad tokens, forged or cut-off LFS uploads, racing commits,
malformed bodies, ref errors, invalid README metadata and CLI mistakes.

The real ``huggingface_hub`` client is used wherever it can send the bad thing; raw ``httpx``
(or a raw socket) where the client itself refuses to."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    hf_hub_download,
)
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.integration.stored import store, unfinished_uploads
from tests.plaza_server import MAX_FILE_SIZE

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def repo_id(api, repo_id) -> str:
    """alice's fresh repo, holding a file."""
    api.upload_file(path_or_fileobj=b"keep me\n", path_in_repo="keep.txt", repo_id=repo_id)
    return repo_id


def _auth(plaza, user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {plaza.tokens[user]}"}


def _line(key: str, value: object) -> str:
    return json.dumps({"key": key, "value": value})


def _header(summary: str = "bad input", **extra) -> str:
    return _line("header", {"summary": summary, "description": "", **extra})


def _file(path: str, data: bytes = b"x") -> str:
    return _line("file", {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"})


def _post_commit(plaza, repo_id: str, lines: list[str] | bytes, user: str = "alice", rev: str = "main"):
    body = lines if isinstance(lines, bytes) else "\n".join(lines).encode()
    return httpx.post(
        f"{plaza.url}/api/models/{repo_id}/commit/{rev}",
        content=body,
        headers={**_auth(plaza, user), "Content-Type": "application/x-ndjson"},
        timeout=60,
    )


def _assert_clean_error(response: httpx.Response, status: int, *fragments: str) -> str:
    """A JSON error with X-Error-Message naming the problem; never a 500 or a traceback."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    message = response.headers["X-Error-Message"]
    assert response.json()["error"]
    assert "Traceback" not in response.text
    for fragment in fragments:
        assert fragment in message, message
    return message


def _state(api: HfApi, repo_id: str) -> tuple[str, list[str]]:
    return api.repo_info(repo_id).sha, sorted(api.list_repo_files(repo_id))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _held(plaza, oid: str) -> bool:
    return store(plaza, "blobs").exists(oid)


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _batch(plaza, repo_id: str, objects: list[dict], user: str = "alice") -> httpx.Response:
    return httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": objects, "hash_algo": "sha256"},
        headers={
            **_auth(plaza, user),
            "Accept": "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
        },
        timeout=30,
    )


def _upload_actions(plaza, repo_id: str, oid: str, size: int) -> dict:
    response = _batch(plaza, repo_id, [{"oid": oid, "size": size}])
    assert response.status_code == 200, response.text
    (obj,) = response.json()["objects"]
    return obj["actions"]


def _verify(plaza, actions: dict, oid: str, size: int) -> httpx.Response:
    return httpx.post(actions["verify"]["href"], json={"oid": oid, "size": size}, headers=_auth(plaza))


# ---------------------------------------------------------------- repo names


@pytest.mark.parametrize(
    ("name", "problem"),
    [("_lead", "starting and ending"), ("trail_", "starting and ending"), ("a_" * 48, "starting and ending")],
)
def test_invalid_repo_name_through_the_client(api, name, problem):
    with pytest.raises(BadRequestError) as caught:
        api.create_repo(f"alice/{name}")
    assert caught.value.response.status_code == 400
    assert "Invalid repo name" in str(caught.value) and problem in str(caught.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "1-96"),
        ("x" * 97, "1-96"),
        ("has space", "letters, digits"),
        ("modèle", "letters, digits"),
        ("模型", "letters, digits"),
        ("a/b", "letters, digits"),
        ("bad--name", "'--'"),
        ("bad..name", "'..'"),
        ("model.git", "'.git'"),
        ("nul\x00byte", "letters, digits"),
    ],
)
def test_invalid_repo_name_over_http(plaza, name, problem):
    # The client refuses these names itself, so they are sent raw.
    response = httpx.post(f"{plaza.url}/api/repos/create", json={"name": name}, headers=_auth(plaza))
    _assert_clean_error(response, 400, "Invalid repo name", problem)


@pytest.mark.parametrize(
    ("organization", "status", "problem"),
    [
        ("bad--org", 400, "Invalid namespace"),
        ("nul\x00org", 400, "Invalid namespace"),
        (42, 400, "Invalid namespace"),
        ("no-such-org", 403, "may not create repos"),
    ],
)
def test_invalid_organisation_is_refused(plaza, organization, status, problem):
    response = httpx.post(
        f"{plaza.url}/api/repos/create",
        json={"name": "fine", "organization": organization},
        headers=_auth(plaza),
    )
    _assert_clean_error(response, status, problem)


def test_unknown_repo_type_is_refused(plaza):
    response = httpx.post(
        f"{plaza.url}/api/repos/create", json={"name": "fine", "type": "space"}, headers=_auth(plaza)
    )
    _assert_clean_error(response, 400, "Unsupported repo type")


# ---------------------------------------------------------------- paths in commits

BAD_PATHS = {
    "dotdot": ("../escape.txt", "'..'"),
    "dotdot-inside": ("a/../../escape.txt", "'..'"),
    "dot": ("a/./b.txt", "'.'"),
    "absolute": ("/etc/passwd", "relative"),
    "backslash": ("dir\\file.txt", "'\\'"),
    "backslash-dotdot": ("..\\escape.txt", "'\\'"),
    "nul": ("a\x00b.txt", "NUL"),
    "empty-segment": ("a//b.txt", "empty"),
    "trailing-slash": ("dir/", "empty"),
    "empty": ("", "empty"),
    "git": (".git/config", "'.git'"),
}


@pytest.mark.parametrize("case", BAD_PATHS, ids=list(BAD_PATHS))
def test_bad_paths_in_raw_commits_are_refused_and_nothing_changes(plaza, api, repo_id, case):
    path, problem = BAD_PATHS[case]
    before = _state(api, repo_id)
    operations = [
        _file(path),
        _line("lfsFile", {"path": path, "algo": "sha256", "oid": _sha256(b"keep me\n"), "size": 8}),
    ]
    if not path.endswith("/"):  # A delete of "dir/" is a folder delete, which is fine.
        operations.append(_line("deletedFile", {"path": path}))
    # A valid file first: the whole commit must be refused, not half of it.
    for operation in operations:
        response = _post_commit(plaza, repo_id, [_header(), _file("good.txt"), operation])
        _assert_clean_error(response, 400, "Invalid path", problem)
    assert _state(api, repo_id) == before


@pytest.mark.parametrize("path", ["dir\\file.txt", "a\x00b.txt", "a//b.txt", "x/\\/y"])
def test_bad_paths_through_create_commit_are_refused(api, repo_id, path):
    before = _state(api, repo_id)
    operations = [
        CommitOperationAdd(path_in_repo="good.txt", path_or_fileobj=b"good"),
        CommitOperationAdd(path_in_repo=path, path_or_fileobj=b"bad"),
    ]
    with pytest.raises(BadRequestError, match="Invalid path"):
        api.create_commit(repo_id, operations, commit_message="bad path")
    with pytest.raises(BadRequestError, match="Invalid path"):
        api.create_commit(repo_id, [CommitOperationDelete(path_in_repo=path)], commit_message="bad delete")
    assert _state(api, repo_id) == before


def test_the_client_itself_refuses_dotdot(api, repo_id):
    with pytest.raises(ValueError, match="Invalid `path_in_repo`"):
        api.create_commit(repo_id, [CommitOperationAdd("a/../../x", b"bad")], commit_message="never sent")


def test_file_under_a_file_is_refused(plaza, api, repo_id):
    before = _state(api, repo_id)
    response = _post_commit(plaza, repo_id, [_header(), _file("keep.txt/inner.txt")])
    _assert_clean_error(response, 400, "'keep.txt' is a file")
    assert _state(api, repo_id) == before


def test_deleting_a_missing_file_is_refused(api, repo_id):
    before = _state(api, repo_id)
    with pytest.raises(EntryNotFoundError):
        api.delete_file("missing.txt", repo_id)
    assert _state(api, repo_id) == before


# ---------------------------------------------------------------- size limit


def test_preupload_over_the_limit_is_refused(plaza, api, repo_id, tmp_path, no_xet):
    assert plaza.env["PLAZA_MAX_FILE_SIZE"] == str(MAX_FILE_SIZE)
    before = _state(api, repo_id)
    big = tmp_path / "big.bin"
    with open(big, "wb") as file:  # Sparse: the size is real, the disk use is not.
        file.truncate(MAX_FILE_SIZE + 1)
    with pytest.raises(HfHubHTTPError) as caught:
        api.upload_file(path_or_fileobj=big, path_in_repo="big.bin", repo_id=repo_id)
    assert caught.value.response.status_code == 413
    assert f"the limit is {MAX_FILE_SIZE}" in str(caught.value)
    assert _state(api, repo_id) == before


def test_preupload_at_the_limit_is_accepted(plaza, repo_id):
    response = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/preupload/main",
        json={"files": [{"path": "ok.bin", "size": MAX_FILE_SIZE, "sample": ""}]},
        headers=_auth(plaza),
    )
    assert response.status_code == 200
    assert response.json()["files"][0]["uploadMode"] == "lfs"


def test_lfs_batch_over_the_limit_is_refused(plaza, repo_id):
    oid = "a" * 64
    response = _batch(plaza, repo_id, [{"oid": oid, "size": MAX_FILE_SIZE + 1}])
    assert response.status_code == 200
    (obj,) = response.json()["objects"]
    assert "actions" not in obj
    assert obj["error"]["code"] == 422
    assert f"exceeds the limit of {MAX_FILE_SIZE} bytes" in obj["error"]["message"]


def test_inline_file_over_the_limit_is_refused(plaza, api, repo_id):
    before = _state(api, repo_id)
    # Built as bytes directly: base64 of zero bytes is "A"s (one copy of ~128 MiB, not four).
    content = b"A" * (4 * (MAX_FILE_SIZE // 3 + 1))
    line = b'{"key": "file", "value": {"path": "huge.txt", "encoding": "base64", "content": "%s"}}'
    response = _post_commit(plaza, repo_id, _header().encode() + b"\n" + line % content)
    _assert_clean_error(response, 413, "huge.txt", str(MAX_FILE_SIZE))
    assert _state(api, repo_id) == before


# ---------------------------------------------------------------- unknown repo / revision / file


def test_unknown_repo(api, tmp_path):
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("alice/no-such-repo", "x.txt", token=api.token, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        list(api.list_repo_tree("alice/no-such-repo"))
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("alice/no-such-repo")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("alice/no-such-repo")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody-at-all/no-such-repo", revision="main")


@pytest.mark.parametrize("revision", ["no-such-branch", "deadbeef", "0" * 40, "refs/tags/v9", "a/b"])
def test_unknown_revision(api, repo_id, tmp_path, revision):
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "keep.txt", revision=revision, token=api.token, cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError):
        list(api.list_repo_tree(repo_id, revision=revision))
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo_id, revision=revision)
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_commits(repo_id, revision=revision)


def test_unknown_file(api, repo_id, tmp_path):
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", token=api.token, cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "keep.txt/below", token=api.token, cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(repo_id, path_in_repo="missing-dir"))
    assert api.file_exists(repo_id, "missing.txt") is False
    assert api.get_paths_info(repo_id, ["missing.txt"]) == []


# ---------------------------------------------------------------- tokens


def test_missing_token_on_write_is_401(plaza, repo_id):
    anonymous = HfApi(endpoint=plaza.url, token=False)
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert caught.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.create_repo("alice/anonymous-attempt")
    assert caught.value.response.status_code == 401
    response = _post_commit(plaza, repo_id, [_header(), _file("x.txt")], user="alice")
    assert response.status_code == 200  # The same commit with the token goes through.
    anonymous_commit = httpx.post(f"{plaza.url}/api/models/{repo_id}/commit/main", content=_header().encode())
    _assert_clean_error(anonymous_commit, 401, "Authentication required")


@pytest.mark.parametrize("token", ["hf_not_a_plaza_token", "plz_", "plz_0123456789abwrongsecret"])
def test_wrong_token_is_401_invalid_credentials(plaza, repo_id, token):
    response = httpx.get(f"{plaza.url}/api/whoami-v2", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["X-Error-Message"] == INVALID_CREDENTIALS
    # Even reads are refused: a bad token is an error, not anonymity.
    response = httpx.get(f"{plaza.url}/api/models/{repo_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["X-Error-Message"] == INVALID_CREDENTIALS
    wrong = HfApi(endpoint=plaza.url, token=token)
    with pytest.raises(HfHubHTTPError) as caught:
        wrong.whoami()
    assert caught.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as caught:
        wrong.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert caught.value.response.status_code == 401
    assert not isinstance(caught.value, RepositoryNotFoundError)


def test_a_real_token_with_a_wrong_secret_is_refused(plaza):
    good = plaza.tokens["alice"]
    forged = good[:-4] + ("aaaa" if not good.endswith("aaaa") else "bbbb")
    response = httpx.get(f"{plaza.url}/api/whoami-v2", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.headers["X-Error-Message"] == INVALID_CREDENTIALS


def test_read_only_token_on_write_is_403(plaza, api, repo_id):
    before = _state(api, repo_id)
    reader = HfApi(endpoint=plaza.url, token=plaza.tokens["alice-read"])
    assert reader.model_info(repo_id).sha == before[0]  # Reading is fine.
    with pytest.raises(HfHubHTTPError) as caught:
        reader.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert caught.value.response.status_code == 403
    assert "read-only" in str(caught.value)
    with pytest.raises(HfHubHTTPError) as caught:
        reader.create_repo("alice/read-only-attempt")
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        reader.create_branch(repo_id, branch="nope")
    assert caught.value.response.status_code == 403
    assert _state(api, repo_id) == before


# ---------------------------------------------------------------- LFS uploads


def test_lfs_upload_with_the_wrong_sha256_stores_nothing(plaza, api, repo_id):
    declared = b"the declared content " * 100
    sent = b"something else here " * 105
    oid = _sha256(declared)
    assert len(sent) == len(declared)
    actions = _upload_actions(plaza, repo_id, oid, len(declared))
    response = httpx.put(actions["upload"]["href"], content=sent)
    _assert_clean_error(response, 400, "sha256")
    assert not _held(plaza, oid)
    assert not _held(plaza, _sha256(sent))
    assert _wait_for(lambda: unfinished_uploads(plaza, "blobs") == 0)
    assert _verify(plaza, actions, oid, len(declared)).status_code == 404
    # The same link still takes the right bytes afterwards.
    assert httpx.put(actions["upload"]["href"], content=declared).status_code == 200
    assert _verify(plaza, actions, oid, len(declared)).status_code == 200
    assert store(plaza, "blobs").read_bytes(oid) == declared


@pytest.mark.parametrize("delta", [-1, +1])
def test_lfs_upload_with_the_wrong_size_stores_nothing(plaza, repo_id, delta):
    declared = (b"%d sized content " % delta) * 64
    oid = _sha256(declared)
    actions = _upload_actions(plaza, repo_id, oid, len(declared))
    sent = declared[:-1] if delta < 0 else declared + b"!"
    response = httpx.put(actions["upload"]["href"], content=sent)
    _assert_clean_error(response, 400 if delta < 0 else 413, "Upload refused")
    assert not _held(plaza, oid)
    assert not _held(plaza, _sha256(sent))
    assert _wait_for(lambda: unfinished_uploads(plaza, "blobs") == 0)
    assert _verify(plaza, actions, oid, len(declared)).status_code == 404


def test_forged_upload_link_is_refused(plaza, repo_id):
    actions = _upload_actions(plaza, repo_id, _sha256(b"forged"), 6)
    href = actions["upload"]["href"]
    body, mac = href.rsplit("/", 1)[1].split(".")
    for link in (f"{body}.{mac[:-2]}xx", "garbage", f"{body}."):
        response = httpx.put(f"{plaza.url}/api/lfs/objects/{link}", content=b"forged")
        _assert_clean_error(response, 404, "link")
    assert not _held(plaza, _sha256(b"forged"))


def test_commit_naming_an_object_never_uploaded_is_refused(plaza, api, repo_id):
    before = _state(api, repo_id)
    oid = _sha256(b"never uploaded")
    lfs = _line("lfsFile", {"path": "ghost.bin", "algo": "sha256", "oid": oid, "size": 14})
    response = _post_commit(plaza, repo_id, [_header(), _file("good.txt"), lfs])
    _assert_clean_error(response, 400, oid, "never uploaded")
    assert _state(api, repo_id) == before


@pytest.mark.parametrize(
    "value",
    [
        {"oid": "not-a-sha"},
        {"oid": 123, "size": 1},
        {"oid": None},
        {"oid": "a" * 64, "algo": "md5"},
        {"oid": ["a"], "size": "big"},
        {"oid": "a" * 64 + "\n"},
        {"oid": "A" * 64},
    ],
)
def test_commit_with_a_malformed_lfs_file_is_refused(plaza, api, repo_id, value):
    before = _state(api, repo_id)
    response = _post_commit(plaza, repo_id, [_header(), _line("lfsFile", {"path": "x.bin", **value})])
    _assert_clean_error(response, 400)
    assert _state(api, repo_id) == before


def test_commit_with_the_wrong_lfs_size_is_refused(plaza, api, repo_id):
    data = b"real object bytes"
    oid = _sha256(data)
    actions = _upload_actions(plaza, repo_id, oid, len(data))
    assert httpx.put(actions["upload"]["href"], content=data).status_code == 200
    before = _state(api, repo_id)
    lfs = _line("lfsFile", {"path": "x.bin", "algo": "sha256", "oid": oid, "size": len(data) + 1})
    response = _post_commit(plaza, repo_id, [_header(), lfs])
    _assert_clean_error(response, 400, f"has {len(data)} bytes")
    assert _state(api, repo_id) == before


def test_upload_cut_off_in_the_middle_leaves_nothing(plaza, api, repo_id):
    size = 4 * 1024 * 1024
    data = bytes(range(256)) * (size // 256)
    oid = _sha256(data)
    href = urlsplit(_upload_actions(plaza, repo_id, oid, size)["upload"]["href"])
    assert unfinished_uploads(plaza, "blobs") == 0
    with socket.create_connection((href.hostname, href.port), timeout=10) as sock:
        request = (
            f"PUT {href.path} HTTP/1.1\r\nHost: {href.netloc}\r\n"
            f"Content-Length: {size}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        sock.sendall(request.encode() + data[: size // 2])
        # The server is mid-way: its temporary file exists.
        assert _wait_for(lambda: unfinished_uploads(plaza, "blobs") == 1)
    assert _wait_for(lambda: unfinished_uploads(plaza, "blobs") == 0)
    assert not _held(plaza, oid)
    assert (
        _verify(
            plaza, {"verify": {"href": f"{plaza.url}/{repo_id}.git/info/lfs/verify"}}, oid, size
        ).status_code
        == 404
    )
    before = _state(api, repo_id)
    lfs = _line("lfsFile", {"path": "cut.bin", "algo": "sha256", "oid": oid, "size": size})
    _assert_clean_error(_post_commit(plaza, repo_id, [_header(), lfs]), 400, "never uploaded")
    assert _state(api, repo_id) == before


# ---------------------------------------------------------------- concurrent commits


def _commit_together(api: HfApi, repo_id: str, batches: list[list], parent: str | None = None) -> list:
    """One thread per batch of operations, all released at once; each result is a CommitInfo
    or the exception that commit raised."""
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)

    def commit(i: int) -> None:
        barrier.wait()
        try:
            results[i] = api.create_commit(
                repo_id, batches[i], commit_message=f"client {i}", parent_commit=parent
            )
        except Exception as exc:  # noqa: BLE001 - checked by the caller
            results[i] = exc

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _files(prefix: str, *contents: bytes) -> list[CommitOperationAdd]:
    return [CommitOperationAdd(f"{prefix}/{k}.txt", c) for k, c in enumerate(contents)]


def test_racing_commits_with_the_same_parent_one_wins(api, repo_id):
    winners = []
    for r in range(4):
        head = api.repo_info(repo_id).sha
        batches = [_files(f"r{r}/c{i}", f"a {r} {i}".encode(), f"b {r} {i}".encode()) for i in range(2)]
        results = _commit_together(api, repo_id, batches, parent=head)
        won = [i for i, result in enumerate(results) if not isinstance(result, Exception)]
        lost = [result for result in results if isinstance(result, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], HfHubHTTPError) and lost[0].response.status_code == 412
        assert "moved on" in str(lost[0])
        winners.append(results[won[0]].oid)
        files = set(api.list_repo_files(repo_id))
        assert {f"r{r}/c{won[0]}/0.txt", f"r{r}/c{won[0]}/1.txt"} <= files
        assert not any(f.startswith(f"r{r}/c{1 - won[0]}/") for f in files)
        assert api.repo_info(repo_id).sha == winners[-1]
    history = [c.commit_id for c in api.list_repo_commits(repo_id)]
    assert history[: len(winners)] == winners[::-1]
    assert len(history) == len(set(history)) == len(winners) + 2  # initial commit, keep.txt


def test_concurrent_commits_without_parent_all_land(api, repo_id):
    before = len(api.list_repo_commits(repo_id))
    results = _commit_together(api, repo_id, [_files(f"c{i}", b"a %d" % i, b"b %d" % i) for i in range(8)])
    assert [r for r in results if isinstance(r, Exception)] == []
    files = set(api.list_repo_files(repo_id))
    assert {f"c{i}/{k}.txt" for i in range(8) for k in range(2)} <= files
    history = [c.commit_id for c in api.list_repo_commits(repo_id)]
    assert len(history) == before + 8
    assert {r.oid for r in results} <= set(history)


def test_concurrent_commits_of_the_same_new_content_all_land(api, repo_id):
    # Every client brings the same never-seen bytes: the shared blob is registered once.
    content = f"shared {repo_id}".encode()
    results = _commit_together(api, repo_id, [_files(f"same{i}", content) for i in range(8)])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert {f"same{i}/0.txt" for i in range(8)} <= set(api.list_repo_files(repo_id))


def test_concurrent_commits_of_shared_contents_in_opposite_orders(api, repo_id):
    # Two commits bring the same two new contents in opposite orders: neither may wait on the
    # other forever (PostgreSQL would detect a deadlock and fail one of them).
    for r in range(4):
        x, y = (f"{side} {repo_id} {r}".encode() for side in "xy")
        results = _commit_together(api, repo_id, [_files(f"r{r}/c0", x, y), _files(f"r{r}/c1", y, x)])
        assert [result for result in results if isinstance(result, Exception)] == []
    assert len([f for f in api.list_repo_files(repo_id) if f.startswith("r")]) == 4 * 2 * 2


# ---------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"this is not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "'files' list"),
        (b'{"files": "x"}', "'files' list"),
        (b'{"files": [{"size": 1}]}', "'path'"),
        (b'{"files": [42]}', "'path'"),
        (b'{"files": [{"path": "a.txt", "size": -1}]}', "Invalid size"),
        (b'{"files": [{"path": "a.txt", "size": "big"}]}', "Invalid size"),
        (b'{"files": [{"path": "a.txt", "size": 1, "sample": "%%%"}]}', "base64"),
        (b'{"files": [{"path": "../a.txt", "size": 1}]}', "Invalid path"),
    ],
)
def test_malformed_preupload(plaza, repo_id, body, fragment):
    response = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/preupload/main",
        content=body,
        headers={**_auth(plaza), "Content-Type": "application/json"},
    )
    _assert_clean_error(response, 400, fragment)


MALFORMED_COMMITS = {
    "empty": (b"", "empty"),
    "blank-lines": (b"\n\n  \n", "empty"),
    "not-json": (b"not json at all", '{"key"'),
    "header-not-first": (f"{_file('a.txt')}\n{_header()}".encode(), "header"),
    "header-not-object": (_line("header", "summary").encode(), "header"),
    "json-list": (b"[1, 2, 3]", '{"key"'),
    "no-value": (b'{"key": "header"}', '{"key"'),
    "no-summary": (_line("header", {"summary": "  "}).encode(), "summary"),
    "unknown-key": (f"{_header()}\n{_line('copyFile', {'path': 'a.txt'})}".encode(), "'copyFile'"),
    "operation-not-object": (f"{_header()}\n{_line('file', 'a.txt')}".encode(), "'path'"),
    "path-not-string": (f"{_header()}\n{_line('file', {'path': 7, 'content': ''})}".encode(), "'path'"),
    "bad-base64": (
        f"{_header()}\n{_line('file', {'path': 'a.txt', 'content': '@@not base64@@'})}".encode(),
        "base64",
    ),
    "content-not-string": (
        f"{_header()}\n{_line('file', {'path': 'a.txt', 'content': 12})}".encode(),
        "base64",
    ),
    "bad-second-line": (f"{_header()}\n{{broken".encode(), '{"key"'),
    "invalid-utf8": (_header().encode() + b"\n\xff\xfe", '{"key"'),
    "summary-with-nul": (_header("nul \x00 in summary").encode(), "NUL"),
    "parent-not-a-sha": (_header(parentCommit=5).encode(), "parentCommit"),
}


@pytest.mark.parametrize("case", MALFORMED_COMMITS, ids=list(MALFORMED_COMMITS))
def test_malformed_commit(plaza, api, repo_id, case):
    body, fragment = MALFORMED_COMMITS[case]
    before = _state(api, repo_id)
    _assert_clean_error(_post_commit(plaza, repo_id, body), 400, fragment)
    assert _state(api, repo_id) == before


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"operation": "upload"}', b'{"operation": "steal", "objects": []}'],
)
def test_malformed_lfs_batch(plaza, repo_id, body):
    response = httpx.post(
        f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch",
        content=body,
        headers={**_auth(plaza), "Content-Type": "application/vnd.git-lfs+json"},
    )
    _assert_clean_error(response, 400)


@pytest.mark.parametrize(
    "obj",
    [
        {"oid": "short", "size": 1},
        {"oid": "A" * 64, "size": 1},
        {"oid": "a" * 64, "size": -5},
        {"size": 1},
        "x",
    ],
)
def test_malformed_lfs_batch_object(plaza, repo_id, obj):
    response = _batch(plaza, repo_id, [obj])
    assert response.status_code == 200
    (answer,) = response.json()["objects"]
    assert answer["error"]["code"] == 422 and answer["error"]["message"]
    assert "actions" not in answer


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"text"'])
def test_malformed_create_repo_body(plaza, body):
    response = httpx.post(
        f"{plaza.url}/api/repos/create",
        content=body,
        headers={**_auth(plaza), "Content-Type": "application/json"},
    )
    _assert_clean_error(response, 400)


@pytest.mark.parametrize("path", ["%00", "a%00b", "x/%00"])
def test_nul_in_urls_is_refused(plaza, repo_id, path):
    for url in (
        f"{plaza.url}/api/models/{repo_id}/revision/{path}",
        f"{plaza.url}/api/models/alice/{path}",
        f"{plaza.url}/{repo_id}/resolve/main/{path}",
        f"{plaza.url}/api/models?search={path}",
    ):
        response = httpx.get(url, headers=_auth(plaza))
        assert response.status_code in (400, 404), (url, response.status_code, response.text)
        _assert_clean_error(response, response.status_code)


def test_nul_in_bodies_is_refused(plaza, repo_id):
    headers = _auth(plaza)
    for url, body in (
        (f"{plaza.url}/api/models/{repo_id}/branch/from-nul", {"startingPoint": "ma\x00in"}),
        (f"{plaza.url}/api/models/{repo_id}/tag/main", {"tag": "v\x00"}),
        (f"{plaza.url}/api/models/{repo_id}/tag/main", {"tag": "nul-message", "message": "a\x00b"}),
        (f"{plaza.url}/api/repos/create", {"name": "fine", "organization": "a\x00b"}),
    ):
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code in (400, 404), (url, body, response.text)
        _assert_clean_error(response, response.status_code)
    response = httpx.request(
        "DELETE", f"{plaza.url}/api/repos/delete", json={"name": "a\x00b"}, headers=headers
    )
    assert response.status_code in (400, 404), response.text
    _assert_clean_error(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [{"oid": "a\x00" * 32, "size": 1}, {"oid": {"x": 1}, "size": 1}, {"oid": "a" * 64, "size": "1"}, {}],
)
def test_malformed_lfs_verify(plaza, repo_id, body):
    response = httpx.post(f"{plaza.url}/{repo_id}.git/info/lfs/verify", json=body, headers=_auth(plaza))
    _assert_clean_error(response, 400, "Cannot verify")


@pytest.mark.parametrize(
    "query",
    [
        "/api/models?offset=100000000000000000000000",
        "/api/models?limit=100000000000000000000000",
        "/api/models?offset=-1",
        "/api/models?limit=0",
        "/api/models?sort=nonsense",
        "/api/models?offset=abc",
        "/api/models/{repo_id}/tree/main?cursor=100000000000000000000000",
        "/api/models/{repo_id}/tree/main?cursor=-5",
        "/api/models/{repo_id}/commits/main?p=100000000000000000000000",
        "/api/models/{repo_id}/commits/main?limit=0",
    ],
)
def test_out_of_range_query_parameters(plaza, repo_id, query):
    response = httpx.get(plaza.url + query.format(repo_id=repo_id), headers=_auth(plaza))
    assert response.status_code in (200, 400), (response.status_code, response.text)
    if response.status_code == 400:
        _assert_clean_error(response, 400)
    else:
        assert isinstance(response.json(), list)


# ---------------------------------------------------------------- branches and tags


def test_branch_and_tag_errors(api, repo_id):
    api.create_branch(repo_id, branch="dev")
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_branch(repo_id, branch="dev")
    assert caught.value.response.status_code == 409
    api.create_branch(repo_id, branch="dev", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as caught:
        api.delete_branch(repo_id, branch="main")
    assert caught.value.response.status_code == 403
    assert "main" in [b.name for b in api.list_repo_refs(repo_id).branches]
    with pytest.raises(RevisionNotFoundError):
        api.delete_branch(repo_id, branch="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(repo_id, tag="no-such-tag")
    with pytest.raises(RevisionNotFoundError):
        api.create_branch(repo_id, branch="from-nowhere", revision="no-such-rev")
    with pytest.raises(RevisionNotFoundError):
        api.create_tag(repo_id, tag="v0", revision="no-such-rev")
    api.create_tag(repo_id, tag="v1")
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_tag(repo_id, tag="v1")
    assert caught.value.response.status_code == 409
    refs = api.list_repo_refs(repo_id)
    assert sorted(b.name for b in refs.branches) == ["dev", "main"]
    assert [t.name for t in refs.tags] == ["v1"]


@pytest.mark.parametrize(
    "name", ["a..b", "with space", "-dash", "trail/", "x.lock", "a~1", "a:b", "a\\b", "refs/pr/1", "a\x00b"]
)
def test_invalid_branch_and_tag_names(api, repo_id, name):
    with pytest.raises(BadRequestError):
        api.create_branch(repo_id, branch=name)
    with pytest.raises(BadRequestError):
        api.create_tag(repo_id, tag=name)
    refs = api.list_repo_refs(repo_id)
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []


def test_commit_to_a_missing_branch(api, repo_id):
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id, revision="nope")


# ---------------------------------------------------------------- README metadata

INVALID_README = "---\nlicense: [mit\ntags: {\n---\n# Broken\n"
LIST_README = "---\n- just\n- a list\n---\n# Not a mapping\n"
VALID_README = "---\nlicense: mit\ntags:\n- tiny\n---\n# Fine\n"


@pytest.mark.parametrize("readme", [INVALID_README, LIST_README], ids=["broken-yaml", "not-a-mapping"])
def test_invalid_readme_metadata_is_refused(plaza, api, repo_id, readme):
    before = _state(api, repo_id)
    response = _post_commit(plaza, repo_id, [_header(), _file("README.md", readme.encode())])
    _assert_clean_error(response, 400, "Invalid metadata in README.md")
    assert _state(api, repo_id) == before
    # The client checks first, through validate-yaml, and refuses with the server's reason.
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=repo_id)
    assert _state(api, repo_id) == before


def test_validate_yaml(plaza):
    url = f"{plaza.url}/api/validate-yaml"
    for readme in (INVALID_README, LIST_README):
        response = httpx.post(url, json={"content": readme, "repoType": "model"})
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors and "Invalid metadata in README.md" in errors[0]["message"]
    for readme in (VALID_README, "# No front matter\n", ""):
        response = httpx.post(url, json={"content": readme, "repoType": "model"})
        assert response.status_code == 200 and response.json() == {}
    response = httpx.post(url, json={"repoType": "model"})
    assert response.status_code == 400 and response.json()["errors"]
    response = httpx.post(url, content=b"not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")


def test_valid_readme_still_commits(api, repo_id):
    api.upload_file(path_or_fileobj=VALID_README.encode(), path_in_repo="README.md", repo_id=repo_id)
    info = api.model_info(repo_id)
    assert info.card_data["license"] == "mit" and "tiny" in info.tags


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("create-user", "alice"), "already taken"),
        (("create-user", "bad--name"), "Invalid account name"),
        (("create-token", "no-such-user"), "no-such-user"),
        (("add-member", "acme", "bob", "--role", "owner"), "Unknown role 'owner'"),
        (("add-member", "no-such-org", "bob", "--role", "read"), "no-such-org"),
        (("create-org", "acme", "--owner", "alice"), "already taken"),
    ],
)
def test_cli_errors_are_one_line(plaza, args, fragment):
    result = plaza.cli("admin", *args, check=False)
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_a_refused_cli_change_changes_nothing(plaza):
    plaza.cli("admin", "add-member", "acme", "bob", "--role", "owner", check=False)
    bob = HfApi(endpoint=plaza.url, token=plaza.tokens["bob"]).whoami()
    assert {"name": "acme", "roleInOrg": "write"} in bob["orgs"]
