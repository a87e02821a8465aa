"""Uploads through Xet, with the hf_xet client exactly as huggingface_hub installs it."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from modelplaza.xet.xorb import parse_xorb
from tests.integration.stored import store, stored_bytes, stored_keys, unfinished_uploads
from tests.integration.xet_helpers import cas_token, named_xorb

MB = 1024 * 1024


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_large_file_round_trip(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = random_bytes(40 * MB, seed=1)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo_id)
    entry = next(e for e in api.list_repo_tree(repo_id) if e.path == "weights.bin")
    assert entry.lfs is not None and entry.lfs.size == len(data)
    path = hf_hub_download(repo_id, "weights.bin", token=api.token, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == data


def test_folder_with_small_and_large_files(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    folder = tmp_path / "model"
    (folder / "shards").mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
    for i in range(3):
        (folder / "shards" / f"part-{i}.safetensors").write_bytes(random_bytes(3 * MB + i, seed=10 + i))
    api.upload_folder(folder_path=folder, repo_id=repo_id)
    local = Path(api.snapshot_download(repo_id, cache_dir=tmp_path / "cache"))
    for source in folder.rglob("*"):
        if source.is_file():
            assert (local / source.relative_to(folder)).read_bytes() == source.read_bytes()


def test_changed_region_sends_only_new_chunks(plaza, api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = bytearray(random_bytes(24 * MB, seed=2))
    source = tmp_path / "model.safetensors"
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=str(source), path_in_repo="model.safetensors", repo_id=repo_id)
    before = stored_bytes(plaza, "xorbs")
    data[12 * MB : 12 * MB + 256 * 1024] = random_bytes(256 * 1024, seed=3)
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=str(source), path_in_repo="model.safetensors", repo_id=repo_id)
    grown = stored_bytes(plaza, "xorbs") - before
    assert 0 < grown < 4 * MB, f"the CAS received {grown} new bytes for a 256 KiB change"
    path = hf_hub_download(repo_id, "model.safetensors", token=api.token, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == bytes(data)


def test_same_content_in_two_repos_is_stored_once(plaza, api, repo_name, tmp_path):
    data = random_bytes(6 * MB, seed=4)
    source = tmp_path / "data.bin"
    source.write_bytes(data)
    api.create_repo(f"alice/{repo_name}-a")
    api.upload_file(path_or_fileobj=str(source), path_in_repo="data.bin", repo_id=f"alice/{repo_name}-a")
    xorbs, blobs = stored_bytes(plaza, "xorbs"), stored_bytes(plaza, "blobs")
    api.create_repo(f"alice/{repo_name}-b")
    api.upload_file(path_or_fileobj=str(source), path_in_repo="data.bin", repo_id=f"alice/{repo_name}-b")
    assert stored_bytes(plaza, "xorbs") == xorbs
    assert stored_bytes(plaza, "blobs") == blobs


def test_hf_file_system_reads_xet_uploads(api, repo_name, tmp_path):
    from huggingface_hub import HfFileSystem

    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = random_bytes(5 * MB, seed=5)
    api.upload_file(path_or_fileobj=_file(tmp_path, data), path_in_repo="d/blob.bin", repo_id=repo_id)
    fs = HfFileSystem(endpoint=api.endpoint, token=api.token)
    with fs.open(f"{repo_id}/d/blob.bin", "rb") as file:
        file.seek(MB)
        assert file.read(1000) == data[MB : MB + 1000]
    assert fs.info(f"{repo_id}/d/blob.bin")["size"] == len(data)


def _file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / f"f-{len(data)}"
    path.write_bytes(data)
    return str(path)


# --- bad input, straight at the CAS with raw HTTP -------------------------------------------


@pytest.fixture
def write_token(plaza, api, repo_name) -> dict:
    api.create_repo(f"alice/{repo_name}")
    return cas_token(plaza, f"alice/{repo_name}")


def _post(token: dict, path: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token['accessToken']}"} if token["accessToken"] else {}
    return httpx.post(f"{token['casUrl']}{path}", content=body, headers=headers)


def test_write_token_answers_the_client_contract(write_token, plaza):
    assert write_token["casUrl"] == f"{plaza.url}/cas"
    assert isinstance(write_token["exp"], int)


def test_xorb_whose_bytes_do_not_match_its_hash_is_refused(plaza, write_token):
    name, body = named_xorb([b"a" * 9000, b"b" * 9000])
    _, other = named_xorb([b"c" * 9000])
    answer = _post(write_token, f"/v1/xorbs/default/{name}", other)
    assert answer.status_code == 400 and "hashes to" in answer.json()["error"]
    assert not store(plaza, "xorbs").exists(name)


def test_truncated_xorb_is_refused(plaza, write_token):
    name, body = named_xorb([os.urandom(20000)])
    answer = _post(write_token, f"/v1/xorbs/default/{name}", body[:-100])
    assert answer.status_code == 400 and "Invalid xorb" in answer.json()["error"]
    assert not store(plaza, "xorbs").exists(name)


def test_xorb_with_a_bad_chunk_after_good_ones_is_refused(plaza, write_token):
    name, body = named_xorb([os.urandom(60000) for _ in range(40)])
    broken = body + b"\x07" + body[1:9]  # a 41st chunk header with version 7
    answer = _post(write_token, f"/v1/xorbs/default/{name}", broken)
    assert answer.status_code == 400 and "chunk 40" in answer.json()["error"]
    assert not store(plaza, "xorbs").exists(name)
    assert unfinished_uploads(plaza, "xorbs") == 0


def test_xorb_over_the_size_limit_is_refused(plaza, write_token):
    from modelplaza.xet.xorb import MAX_XORB_SIZE

    name, body = named_xorb([os.urandom(128 * 1024)] * 513)
    assert len(body) > MAX_XORB_SIZE
    answer = _post(write_token, f"/v1/xorbs/default/{name}", body)
    assert answer.status_code == 413 and str(MAX_XORB_SIZE) in answer.json()["error"]
    assert not store(plaza, "xorbs").exists(name)
    assert unfinished_uploads(plaza, "xorbs") == 0


def test_xorb_upload_is_idempotent(write_token):
    name, body = named_xorb([os.urandom(10000), os.urandom(12000)])
    assert _post(write_token, f"/v1/xorbs/default/{name}", body).json() == {"was_inserted": True}
    assert _post(write_token, f"/v1/xorbs/default/{name}", body).json() == {"was_inserted": False}


def _shard_naming(xorb_hex: str, data: bytes) -> bytes:
    import hashlib

    from modelplaza.xet.hashing import chunk_hash, file_hash, hex_to_hash
    from modelplaza.xet.shard import FileTerm, Shard, ShardFile, serialize_shard

    term = FileTerm(hex_to_hash(xorb_hex), 0, 1, len(data))
    digest = file_hash([(chunk_hash(data), len(data))])
    file = ShardFile(digest, (term,), hashlib.sha256(data).hexdigest())
    return serialize_shard(Shard(files=(file,), xorbs=()))


def test_shard_naming_a_xorb_never_uploaded_is_refused(write_token):
    data = os.urandom(10000)
    name, _ = named_xorb([data])
    answer = _post(write_token, "/v1/shards", _shard_naming(name, data))
    assert answer.status_code == 400 and "never uploaded" in answer.json()["error"]


def test_shard_with_a_broken_footer_is_refused(write_token):
    data = os.urandom(10000)
    name, body = named_xorb([data])
    assert _post(write_token, f"/v1/xorbs/default/{name}", body).status_code == 200
    shard = bytearray(_shard_naming(name, data))
    shard[-40:] = b"\xff" * 40
    answer = _post(write_token, "/v1/shards", bytes(shard))
    assert answer.status_code == 400 and "Invalid shard" in answer.json()["error"]


def test_shard_claiming_a_sha256_its_chunks_do_not_make_is_refused(write_token, api, repo_name):
    from modelplaza.xet.hashing import chunk_hash, file_hash, hex_to_hash
    from modelplaza.xet.shard import FileTerm, Shard, ShardFile, serialize_shard

    data = os.urandom(10000)
    name, body = named_xorb([data])
    assert _post(write_token, f"/v1/xorbs/default/{name}", body).status_code == 200
    claimed = hashlib.sha256(b"something else").hexdigest()
    term = FileTerm(hex_to_hash(name), 0, 1, len(data))
    file = ShardFile(file_hash([(chunk_hash(data), len(data))]), (term,), claimed)
    answer = _post(write_token, "/v1/shards", serialize_shard(Shard(files=(file,), xorbs=())))
    assert answer.status_code == 400 and "the shard says" in answer.json()["error"]
    commit = (
        '{"key":"header","value":{"summary":"x"}}\n'
        '{"key":"lfsFile","value":{"path":"w.bin","algo":"sha256","oid":"' + claimed + '","size":10000}}\n'
    )
    answer = httpx.post(
        f"{api.endpoint}/api/models/alice/{repo_name}/commit/main",
        content=commit,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 400 and "never uploaded" in answer.json()["error"]


def test_read_token_cannot_write(plaza, api, repo_name):
    api.create_repo(f"alice/{repo_name}")
    token = cas_token(plaza, f"alice/{repo_name}", write=False)
    name, body = named_xorb([os.urandom(9000)])
    assert _post(token, f"/v1/xorbs/default/{name}", body).status_code == 403


def test_expired_or_forged_token_is_refused(plaza, write_token):
    from modelplaza.auth.signing import Signer

    signer = Signer((plaza.data_dir / "secret.key").read_text().strip().encode())
    expired = signer.sign({"op": "xet", "repo": 1, "write": True}, -10)
    name, body = named_xorb([os.urandom(9000)])
    for token in (expired, write_token["accessToken"] + "x", ""):
        answer = _post({**write_token, "accessToken": token}, f"/v1/xorbs/default/{name}", body)
        assert answer.status_code == 401


def test_write_token_needs_write_rights(plaza, repo_name, api):
    api.create_repo(f"alice/{repo_name}")
    url = f"{plaza.url}/api/models/alice/{repo_name}/xet-write-token/main"
    assert httpx.get(url, headers={"Authorization": f"Bearer {plaza.tokens['bob']}"}).status_code == 403
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {plaza.tokens['alice-read']}"}).status_code == 403
    )
    assert httpx.get(url).status_code == 401


def test_commit_naming_content_never_uploaded_is_refused(api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    head = api.repo_info(repo_id).sha
    body = (
        '{"key":"header","value":{"summary":"x"}}\n'
        '{"key":"lfsFile","value":{"path":"w.bin","algo":"sha256","oid":"' + "ab" * 32 + '","size":5}}\n'
    )
    answer = httpx.post(
        f"{api.endpoint}/api/models/{repo_id}/commit/main",
        content=body,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 400
    assert api.repo_info(repo_id).sha == head
    with pytest.raises(HfHubHTTPError):
        HfApi(endpoint=api.endpoint, token=api.token).hf_hub_download(repo_id, "w.bin")


def test_datasets_push_to_hub_and_load_with_xet(api, repo_name, tmp_path):
    from datasets import Dataset, DatasetDict, load_dataset

    repo_id = f"alice/{repo_name}"
    splits = DatasetDict(
        train=Dataset.from_dict(
            {"text": [f"row {i}" for i in range(50)], "label": [i % 2 for i in range(50)]}
        ),
        test=Dataset.from_dict({"text": ["held out"] * 5, "label": [1] * 5}),
    )
    splits.push_to_hub(repo_id, token=api.token)
    assert all(
        e.lfs
        for e in api.list_repo_tree(repo_id, repo_type="dataset", recursive=True)
        if e.path.endswith(".parquet")
    )
    test = load_dataset(repo_id, split="test", token=api.token, cache_dir=str(tmp_path))
    assert test["text"] == ["held out"] * 5


# --- files kept as chunks only, rebuilt on read ----------------------------------------------


def _chunk_edges(plaza, data: bytes, xorbs: set[str]) -> list[int]:
    """Where the chunks of newly stored xorbs start in ``data`` (random, so each is unique)."""

    edges = set()
    for key in xorbs:
        for chunk in parse_xorb(store(plaza, "xorbs").read_bytes(key)):
            at = data.find(chunk.data)
            if at >= 0:
                edges.add(at)
    return sorted(edges)


def _get(api, repo_id: str, revision: str, path: str, byte_range: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.token}"}
    if byte_range is not None:
        headers["Range"] = byte_range
    return httpx.get(f"{api.endpoint}/{repo_id}/resolve/{revision}/{path}", headers=headers)


def _check_ranges(api, repo_id: str, revision: str, path: str, data: bytes, edges: list[int], seed: int):
    rng = random.Random(seed)
    ranges = [(e + d, e + d + rng.randrange(1, 300_000)) for e in edges for d in (-1, 0, 1) if e + d > 0]
    ranges += [(e - rng.randrange(1, 70_000), e - 1) for e in edges if e > 70_000]
    for _ in range(60):
        start = rng.randrange(len(data))
        ranges.append((start, start + rng.choice([0, 1, 1000, 65_536, 2 * MB])))
    for start, end in ranges:
        answer = _get(api, repo_id, revision, path, f"bytes={start}-{end}")
        last = min(end, len(data) - 1)
        assert answer.status_code == 206, (start, end)
        assert answer.headers["Content-Range"] == f"bytes {start}-{last}/{len(data)}"
        assert answer.content == data[start : last + 1], (start, end)


def test_xet_upload_is_kept_as_chunks_and_read_exactly(plaza, api, repo_name, tmp_path):
    from huggingface_hub import HfFileSystem

    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = random_bytes(8 * MB + 12_345, seed=20)
    sha256 = hashlib.sha256(data).hexdigest()
    before = stored_keys(plaza, "xorbs")
    api.upload_file(path_or_fileobj=_file(tmp_path, data), path_in_repo="w.bin", repo_id=repo_id)
    new_xorbs = stored_keys(plaza, "xorbs") - before
    assert new_xorbs and not store(plaza, "blobs").exists(sha256)
    path = hf_hub_download(repo_id, "w.bin", token=api.token, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == data

    edges = _chunk_edges(plaza, data, new_xorbs)
    assert len(edges) > 50
    _check_ranges(api, repo_id, "main", "w.bin", data, edges, seed=21)
    whole = _get(api, repo_id, "main", "w.bin", None)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["ETag"] == f'"{sha256}"' and whole.headers["Content-Length"] == str(len(data))
    assert _get(api, repo_id, "main", "w.bin", "bytes=-1000").content == data[-1000:]
    assert _get(api, repo_id, "main", "w.bin", f"bytes={len(data) - 5}-").content == data[-5:]
    assert _get(api, repo_id, "main", "w.bin", f"bytes={len(data)}-").status_code == 416
    head = httpx.head(f"{api.endpoint}/{repo_id}/resolve/main/w.bin", headers={"Range": "bytes=10-19"})
    assert head.status_code == 206 and head.headers["Content-Length"] == "10"

    fs = HfFileSystem(endpoint=api.endpoint, token=api.token)
    with fs.open(f"{repo_id}/w.bin", "rb", block_size=100_000) as file:
        for start in (edges[7] - 3, edges[30], len(data) - 777, 12):
            file.seek(start)
            assert file.read(250_000) == data[start : start + 250_000]


def test_lfs_clients_get_xet_uploads_from_chunks(plaza, api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = random_bytes(3 * MB, seed=22)
    oid = hashlib.sha256(data).hexdigest()
    api.upload_file(path_or_fileobj=_file(tmp_path, data), path_in_repo="w.bin", repo_id=repo_id)
    assert not store(plaza, "blobs").exists(oid)
    batch_url = f"{plaza.url}/{repo_id}.git/info/lfs/objects/batch"
    auth = {"Authorization": f"Bearer {api.token}"}
    objects = [{"oid": oid, "size": len(data)}]
    upload = httpx.post(batch_url, json={"operation": "upload", "objects": objects}, headers=auth).json()
    assert "actions" not in upload["objects"][0]  # held already, as chunks
    download = httpx.post(batch_url, json={"operation": "download", "objects": objects}, headers=auth).json()
    link = download["objects"][0]["actions"]["download"]["href"]
    answer = httpx.get(link)
    assert answer.content == data and answer.headers["Content-Length"] == str(len(data))


def _preupload_mode(api, repo_id: str, path: str, sample: bytes) -> str:
    answer = httpx.post(
        f"{api.endpoint}/api/models/{repo_id}/preupload/main",
        json={"files": [{"path": path, "size": len(sample), "sample": base64.b64encode(sample).decode()}]},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    answer.raise_for_status()
    return answer.json()["files"][0]["uploadMode"]


def test_readme_and_gitattributes_uploaded_through_xet_are_read(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    lfs_line = "{} filter=lfs diff=lfs merge=lfs -text\n"
    rules = lfs_line.format("*.md") + lfs_line.format(".gitattributes")
    api.upload_file(path_or_fileobj=rules.encode(), path_in_repo=".gitattributes", repo_id=repo_id)
    readme = b"---\nlicense: apache-2.0\ntags:\n- chunked\n---\n# Kept as chunks\n"
    api.upload_file(path_or_fileobj=readme, path_in_repo="README.md", repo_id=repo_id)
    info = api.model_info(repo_id, files_metadata=True)
    entries = {s.rfilename: s for s in info.siblings}
    assert entries["README.md"].lfs is not None
    assert not store(plaza, "blobs").exists(hashlib.sha256(readme).hexdigest())
    assert info.card_data["license"] == "apache-2.0" and "chunked" in info.tags

    rules += lfs_line.format("*.txt")
    api.upload_file(path_or_fileobj=rules.encode(), path_in_repo=".gitattributes", repo_id=repo_id)
    assert not store(plaza, "blobs").exists(hashlib.sha256(rules.encode()).hexdigest())
    assert _preupload_mode(api, repo_id, "notes.txt", b"plain text") == "lfs"
    assert _preupload_mode(api, repo_id, "notes.json", b"{}") == "regular"


def test_ten_revisions_with_one_region_changed_store_little_more_than_one_copy(
    plaza, api, repo_name, tmp_path
):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    size, region = 8 * MB, 64 * 1024
    data = bytearray(random_bytes(size, seed=30))
    before, blobs_before = stored_bytes(plaza, "xorbs"), stored_bytes(plaza, "blobs")
    revisions = []
    for number in range(10):
        if number:
            at = random.Random(number).randrange(size - region)
            data[at : at + region] = random_bytes(region, seed=100 + number)
        commit = api.upload_file(
            path_or_fileobj=_file(tmp_path, bytes(data)), path_in_repo="model.bin", repo_id=repo_id
        )
        revisions.append((commit.oid, bytes(data)))
    grown = stored_bytes(plaza, "xorbs") - before
    assert grown < 1.5 * size, f"ten revisions took {grown / size:.2f} copies in xorbs"
    assert stored_bytes(plaza, "blobs") == blobs_before
    for oid, content in (revisions[0], revisions[4], revisions[-1]):
        path = hf_hub_download(repo_id, "model.bin", revision=oid, token=api.token, cache_dir=tmp_path / "c")
        assert Path(path).read_bytes() == content
    _check_ranges(api, repo_id, revisions[-1][0], "model.bin", revisions[-1][1], [], seed=31)
