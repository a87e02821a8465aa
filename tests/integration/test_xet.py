"""Uploads through Xet, with the hf_xet client exactly as huggingface_hub installs it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

MB = 1024 * 1024


def stored_bytes(folder: Path) -> int:
    files = (p for p in folder.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files if "tmp" not in p.relative_to(folder).parts)


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
    xorbs = plaza.data_dir / "xorbs"
    before = stored_bytes(xorbs)
    data[12 * MB : 12 * MB + 256 * 1024] = random_bytes(256 * 1024, seed=3)
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=str(source), path_in_repo="model.safetensors", repo_id=repo_id)
    grown = stored_bytes(xorbs) - before
    assert 0 < grown < 4 * MB, f"the CAS received {grown} new bytes for a 256 KiB change"
    path = hf_hub_download(repo_id, "model.safetensors", token=api.token, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == bytes(data)


def test_same_content_in_two_repos_is_stored_once(plaza, api, repo_name, tmp_path):
    data = random_bytes(6 * MB, seed=4)
    source = tmp_path / "data.bin"
    source.write_bytes(data)
    api.create_repo(f"alice/{repo_name}-a")
    api.upload_file(path_or_fileobj=str(source), path_in_repo="data.bin", repo_id=f"alice/{repo_name}-a")
    xorbs, blobs = stored_bytes(plaza.data_dir / "xorbs"), stored_bytes(plaza.data_dir / "blobs")
    api.create_repo(f"alice/{repo_name}-b")
    api.upload_file(path_or_fileobj=str(source), path_in_repo="data.bin", repo_id=f"alice/{repo_name}-b")
    assert stored_bytes(plaza.data_dir / "xorbs") == xorbs
    assert stored_bytes(plaza.data_dir / "blobs") == blobs


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
    answer = httpx.get(
        f"{plaza.url}/api/models/alice/{repo_name}/xet-write-token/main",
        headers={"Authorization": f"Bearer {plaza.tokens['alice']}"},
    )
    answer.raise_for_status()
    return answer.json()


def _xorb(chunks: list[bytes]) -> tuple[str, bytes]:
    from modelplaza.xet.hashing import chunk_hash, hash_to_hex, xorb_hash
    from modelplaza.xet.xorb import serialize_xorb

    return hash_to_hex(xorb_hash([(chunk_hash(c), len(c)) for c in chunks])), serialize_xorb(chunks)


def _post(token: dict, path: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token['accessToken']}"} if token["accessToken"] else {}
    return httpx.post(f"{token['casUrl']}{path}", content=body, headers=headers)


def test_write_token_answers_the_client_contract(write_token, plaza):
    assert write_token["casUrl"] == f"{plaza.url}/cas"
    assert isinstance(write_token["exp"], int)


def test_xorb_whose_bytes_do_not_match_its_hash_is_refused(plaza, write_token):
    name, body = _xorb([b"a" * 9000, b"b" * 9000])
    _, other = _xorb([b"c" * 9000])
    answer = _post(write_token, f"/v1/xorbs/default/{name}", other)
    assert answer.status_code == 400 and "hashes to" in answer.json()["error"]
    assert not any((plaza.data_dir / "xorbs").rglob(name))


def test_truncated_xorb_is_refused(plaza, write_token):
    name, body = _xorb([os.urandom(20000)])
    answer = _post(write_token, f"/v1/xorbs/default/{name}", body[:-100])
    assert answer.status_code == 400 and "Invalid xorb" in answer.json()["error"]
    assert not any((plaza.data_dir / "xorbs").rglob(name))


def test_xorb_upload_is_idempotent(write_token):
    name, body = _xorb([os.urandom(10000), os.urandom(12000)])
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
    name, _ = _xorb([data])
    answer = _post(write_token, "/v1/shards", _shard_naming(name, data))
    assert answer.status_code == 400 and "never uploaded" in answer.json()["error"]


def test_shard_with_a_broken_footer_is_refused(write_token):
    data = os.urandom(10000)
    name, body = _xorb([data])
    assert _post(write_token, f"/v1/xorbs/default/{name}", body).status_code == 200
    shard = bytearray(_shard_naming(name, data))
    shard[-40:] = b"\xff" * 40
    answer = _post(write_token, "/v1/shards", bytes(shard))
    assert answer.status_code == 400 and "Invalid shard" in answer.json()["error"]


def test_read_token_cannot_write(plaza, api, repo_name):
    api.create_repo(f"alice/{repo_name}")
    token = httpx.get(
        f"{plaza.url}/api/models/alice/{repo_name}/xet-read-token/main",
        headers={"Authorization": f"Bearer {plaza.tokens['alice']}"},
    ).json()
    name, body = _xorb([os.urandom(9000)])
    assert _post(token, f"/v1/xorbs/default/{name}", body).status_code == 403


def test_expired_or_forged_token_is_refused(plaza, write_token):
    from modelplaza.auth.signing import Signer

    signer = Signer((plaza.data_dir / "secret.key").read_text().strip().encode())
    expired = signer.sign({"op": "xet", "repo": 1, "write": True}, -10)
    name, body = _xorb([os.urandom(9000)])
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
