"""Request bodies are held to their route's limit before and while they are read, and callers
without the right are refused before their bodies are read: a plaza of its own with a small
commit limit (``PLAZA_MAX_COMMIT_SIZE``), driven with raw httpx requests, its serving process's
peak memory measured around each large one; the real clients still upload through it."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

from tests.integration.test_web_accounts import browser, log_in
from tests.integration.xet_helpers import cas_token
from tests.plaza_server import PlazaServer, free_port, running_plaza

MiB = 1 << 20
COMMIT_LIMIT = 8 * MiB
HUGE = 256 * MiB
# Far below the 256 MiB bodies sent: the memory a plaza may grow by, and the bytes it may take
# (sockets' buffers hold a few MiB) while it refuses one of them.
ROOM = 64 * MiB


@pytest.fixture(scope="module")
def limited() -> Iterator[PlazaServer]:
    with running_plaza("limits", free_port(), PLAZA_MAX_COMMIT_SIZE=str(COMMIT_LIMIT)) as server:
        for user in ("alice", "bob"):
            server.cli("admin", "create-user", user, "--password", f"{user}-password")
            server.tokens[user] = server.token(user)
        yield server


@pytest.fixture
def repo_id(limited) -> str:
    repo_id = f"alice/r-{uuid.uuid4().hex[:10]}"
    HfApi(endpoint=limited.url, token=limited.tokens["alice"]).create_repo(repo_id)
    return repo_id


def _auth(server: PlazaServer, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[user]}"}


class Body:
    """A body sent as it is generated, counting what the server took before it answered."""

    def __init__(self, size: int, start: bytes = b"", piece: bytes = b"x" * MiB) -> None:
        self.size, self.start, self.piece, self.sent = size, start, piece, 0

    def __iter__(self) -> Iterator[bytes]:
        for data in (
            self.start,
            *(self.piece for _ in range((self.size - len(self.start)) // len(self.piece))),
        ):
            self.sent += len(data)
            yield data

    def sized(self) -> dict[str, str]:
        """Headers that declare the length (without them, httpx sends the body chunked)."""
        return {"Content-Length": str(self.size)}


# ---------------------------------------------------------------- the serving process's memory


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status_kib(pid: int, field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert match, field
    return int(match.group(1))


class PeakMemory:
    """How far the plaza's processes' resident memory rose above where it was at the start
    (their peak marks reset through /proc/PID/clear_refs)."""

    def __init__(self, server: PlazaServer) -> None:
        self.pids = [server.pid, *_descendants(server.pid)]
        self.growth = 0

    def __enter__(self) -> PeakMemory:
        self.start = {}
        for pid in self.pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.start[pid] = _status_kib(pid, "VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth = max((_status_kib(pid, "VmHWM") - self.start[pid]) * 1024 for pid in self.pids)


def _post(server: PlazaServer, path: str, body: Body, headers: dict[str, str]) -> tuple[httpx.Response, int]:
    """The answer to ``body`` and how much the plaza's memory grew meanwhile."""
    with PeakMemory(server) as memory:
        response = httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=120)
    return response, memory.growth


def _json_error(response: httpx.Response, status: int, *fragments: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    message = response.headers["X-Error-Message"]
    assert response.json()["error"]
    for fragment in fragments:
        assert fragment in message, message
    return message


def _commit_start() -> bytes:
    header = b'{"key": "header", "value": {"summary": "big", "description": ""}}\n'
    return header + b'{"key": "file", "value": {"path": "big.txt", "encoding": "base64", "content": "'


# ---------------------------------------------------------------- refused before the body is read


def test_anonymous_huge_json_is_refused_without_holding_it(limited):
    # A body the framework reads itself, before any check of the caller: only its first MiB is read.
    body = Body(HUGE, b'{"name": "', piece=b"a" * MiB)
    response, growth = _post(limited, "/api/repos/create", body, {"Content-Type": "application/json"})
    _json_error(response, 413, "A request body may have at most 1048576 bytes", "max_body_size")
    assert response.headers["connection"] == "close"
    assert growth < ROOM, growth


def test_anonymous_huge_commit_is_refused_before_its_body(limited, repo_id):
    path = f"/api/models/{repo_id}/commit/main"
    chunked = Body(HUGE, _commit_start())
    response, growth = _post(limited, path, chunked, {"Content-Type": "application/x-ndjson"})
    assert response.status_code == 401, response.text
    assert growth < ROOM, growth
    assert chunked.sent < ROOM  # the plaza answered and closed without taking it all

    sized = Body(HUGE, _commit_start())
    response, growth = _post(limited, path, sized, sized.sized())
    _json_error(response, 413, f"A commit may have at most {COMMIT_LIMIT} bytes", "max_commit_size")
    assert growth < ROOM, growth


def test_commit_to_another_users_repo_is_refused_before_its_body(limited, repo_id):
    body = Body(HUGE, _commit_start())
    response, growth = _post(limited, f"/api/models/{repo_id}/commit/main", body, _auth(limited, "bob"))
    _json_error(response, 403)
    assert growth < ROOM, growth
    assert body.sent < ROOM


def test_preupload_and_lfs_calls_check_rights_before_the_body(limited, repo_id):
    # Bodies over the JSON limit, sent chunked: a 413 would say the body was read first.
    private = f"alice/p-{uuid.uuid4().hex[:8]}"
    HfApi(endpoint=limited.url, token=limited.tokens["alice"]).create_repo(private, private=True)
    for path, status in (
        (f"/api/models/{repo_id}/preupload/main", 403),
        (f"/{repo_id}.git/info/lfs/verify", 403),
        (f"/{private}.git/info/lfs/objects/batch", 404),
    ):
        body = Body(HUGE, b'{"files": [], "x": "', piece=b"a" * MiB)
        response, _ = _post(limited, path, body, _auth(limited, "bob"))
        _json_error(response, status)
        assert body.sent < ROOM, path


# ---------------------------------------------------------------- cut off while streaming


def test_chunked_commit_over_the_limit_is_cut_off_and_the_next_request_works(limited, repo_id):
    with httpx.Client(timeout=120) as client:
        body = Body(COMMIT_LIMIT + 4 * MiB, _commit_start(), piece=b"A" * MiB)
        response = client.post(
            f"{limited.url}/api/models/{repo_id}/commit/main", content=body, headers=_auth(limited, "alice")
        )
        _json_error(response, 413, f"A commit may have at most {COMMIT_LIMIT} bytes")
        assert response.headers["connection"] == "close"
        assert client.get(f"{limited.url}/api/models/{repo_id}").status_code == 200
    files = HfApi(endpoint=limited.url).list_repo_files(repo_id)
    assert "big.txt" not in files


def test_commit_within_the_limit_is_accepted(limited, repo_id):
    content = os.urandom(3 * MiB)
    api = HfApi(endpoint=limited.url, token=limited.tokens["alice"])
    # Sent inline (regular) by the client: 4 MiB of base64, under the 8 MiB limit.
    api.upload_file(
        path_or_fileobj=content.hex()[: 3 * MiB].encode(), path_in_repo="notes.txt", repo_id=repo_id
    )
    assert api.get_paths_info(repo_id, ["notes.txt"])[0].lfs is None


def test_oversized_shard_is_refused_before_it_is_buffered(limited, repo_id):
    token = cas_token(limited, repo_id)
    headers = {"Authorization": f"Bearer {token['accessToken']}"}
    path = token["casUrl"].removeprefix(limited.url) + "/v1/shards"
    sized = Body(HUGE)
    response, growth = _post(limited, path, sized, {**headers, **sized.sized()})
    _json_error(response, 413, f"A shard may have at most {64 * MiB} bytes")
    assert growth < ROOM, growth
    chunked = Body(80 * MiB)
    response, _ = _post(limited, path, chunked, headers)
    _json_error(response, 413, "A shard may have at most")


def test_lfs_upload_is_held_to_its_announced_size(limited, repo_id):
    data = os.urandom(1000)
    oid = hashlib.sha256(data).hexdigest()
    batch = httpx.post(
        f"{limited.url}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": 1000}]},
        headers=_auth(limited, "alice"),
    )
    href = batch.json()["objects"][0]["actions"]["upload"]["href"]
    _json_error(httpx.put(href, content=data + b"more"), 413, "more than the announced 1000 bytes")
    _json_error(httpx.put(href, content=iter([data, b"more"])), 413, "more than the announced 1000 bytes")
    assert httpx.put(href, content=data).status_code == 200


# ---------------------------------------------------------------- pages


def test_page_forms_are_held_to_the_small_limit(limited):
    response = httpx.post(
        f"{limited.url}/login",
        content=b"username=alice&password=" + b"x" * (2 * MiB),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "at most 1048576 bytes" in response.text


def test_anonymous_upload_form_is_refused_before_its_files(limited, repo_id):
    boundary = "plaza-test-boundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\ntoken\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n\r\n'
    ).encode()
    body = Body(HUGE, start)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": "plaza_csrf=token"}
    response, growth = _post(limited, f"/{repo_id}/upload/main", body, headers)
    assert response.status_code == 401
    assert body.sent < ROOM
    assert growth < ROOM, growth


def test_the_upload_pages_script_is_told_why_in_words(limited, repo_id):
    boundary = "plaza-test-boundary"
    start = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n\r\n'
    body = Body(HUGE, start.encode())
    with browser(limited) as alice:
        assert log_in(alice, "alice").status_code == 303
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRF-Token": alice.cookies["plaza_csrf"],
            "Accept": "application/json",  # as the page's script asks
            **body.sized(),
        }
        response = alice.post(f"/{repo_id}/upload/main", content=body, headers=headers, timeout=120)
    assert response.status_code == 413
    assert "An upload from the page may have at most" in response.json()["error"]


# ---------------------------------------------------------------- the real clients


def test_real_clients_upload_through_the_limits(limited, repo_id, tmp_path, monkeypatch):
    api = HfApi(endpoint=limited.url, token=limited.tokens["alice"])
    folder = tmp_path / "model"
    folder.mkdir()
    files = {f"notes/{i}.txt": f"note {i}\n".encode() * 1000 for i in range(30)}
    files["weights.bin"] = os.urandom(3 * MiB)  # binary: uploaded with Xet
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    api.upload_folder(folder_path=folder, repo_id=repo_id)

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    files["lfs.bin"] = os.urandom(2 * MiB)  # uploaded through the LFS batch API and a signed link
    api.upload_file(path_or_fileobj=files["lfs.bin"], path_in_repo="lfs.bin", repo_id=repo_id)

    for name, data in files.items():
        got = hf_hub_download(repo_id, name, endpoint=limited.url, cache_dir=tmp_path / "cache")
        assert Path(got).read_bytes() == data, name


def test_a_long_readme_is_checked_but_not_an_endless_one(limited):
    # README checks take a README's worth (3 x lfs_threshold more than small bodies), not a commit's.
    readme = "---\nlicense: mit\n---\n" + "A line of the card.\n" * (2 * MiB // 20)
    response = httpx.post(f"{limited.url}/api/validate-yaml", json={"content": readme, "repoType": "model"})
    assert response.status_code == 200, response.text
    body = Body(HUGE, b'{"content": "', piece=b"a" * MiB)
    response, growth = _post(limited, "/api/validate-yaml", body, {"Content-Type": "application/json"})
    _json_error(response, 413, "A model card request may have at most")
    assert growth < ROOM, growth
