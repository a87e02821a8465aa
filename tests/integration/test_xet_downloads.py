"""Downloads through Xet (``PLAZA_XET_DOWNLOADS=1``): hf_xet fetches Xet-uploaded files from the
CAS itself. The setting is server-wide, so these tests use ``xet_plaza``, a second plaza with it
on; the session's ``plaza`` (setting off) shows that downloads stay plain HTTP by default."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download

from modelplaza.xet import parse_xorb
from tests.integration.model_helpers import same_weights, tiny_model
from tests.plaza_server import PlazaServer

MB = 1024 * 1024


def reconstructions(server: PlazaServer) -> int:
    """How many reconstruction answers the server has logged."""
    return server.log.read_text().count("xet reconstruction of")


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def upload(api: HfApi, repo_id: str, path: str, data: bytes, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    api.upload_file(path_or_fileobj=str(source), path_in_repo=path, repo_id=repo_id)


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def read_token(server: PlazaServer, repo_id: str) -> str:
    response = httpx.get(
        f"{server.url}/api/models/{repo_id}/xet-read-token/main", headers=auth(server.tokens["alice"])
    )
    response.raise_for_status()
    return response.headers["X-Xet-Access-Token"]


def test_hf_hub_download_goes_through_xet(xet_plaza, xet_api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    xet_api.create_repo(repo_id)
    data = random_bytes(20 * MB, seed=41)
    upload(xet_api, repo_id, "weights.bin", data, tmp_path)
    sha = xet_api.model_info(repo_id).sha
    head = httpx.head(f"{xet_plaza.url}/{repo_id}/resolve/main/weights.bin", headers=auth(xet_api.token))
    assert head.status_code == 200
    xet_hash = head.headers["X-Xet-Hash"]
    assert len(xet_hash) == 64
    assert head.links["xet-auth"]["url"] == f"{xet_plaza.url}/api/models/{repo_id}/xet-read-token/{sha}"
    tree = httpx.get(f"{xet_plaza.url}/api/models/{repo_id}/tree/main", headers=auth(xet_api.token)).json()
    assert next(e for e in tree if e["path"] == "weights.bin")["xetHash"] == xet_hash
    assert all("xetHash" not in e for e in tree if e["path"] != "weights.bin")  # .gitattributes: in git
    before = reconstructions(xet_plaza)
    path = hf_hub_download(
        repo_id, "weights.bin", endpoint=xet_plaza.url, token=xet_api.token, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == data
    assert reconstructions(xet_plaza) > before


def test_snapshot_download_goes_through_xet(xet_plaza, xet_api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    xet_api.create_repo(repo_id)
    folder = tmp_path / "model"
    (folder / "shards").mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    for i in range(3):
        (folder / "shards" / f"part-{i}.bin").write_bytes(random_bytes(2 * MB + i, seed=50 + i))
    xet_api.upload_folder(folder_path=folder, repo_id=repo_id)
    before = reconstructions(xet_plaza)
    local = Path(
        snapshot_download(repo_id, endpoint=xet_plaza.url, token=xet_api.token, cache_dir=tmp_path / "cache")
    )
    for source in folder.rglob("*"):
        if source.is_file():
            assert (local / source.relative_to(folder)).read_bytes() == source.read_bytes()
    assert reconstructions(xet_plaza) >= before + 3


def test_hf_file_system_reads(xet_plaza, xet_api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    xet_api.create_repo(repo_id)
    data = random_bytes(6 * MB, seed=60)
    upload(xet_api, repo_id, "data/blob.bin", data, tmp_path)
    fs = HfFileSystem(endpoint=xet_plaza.url, token=xet_api.token)
    assert fs.info(f"{repo_id}/data/blob.bin")["xet_hash"]
    with fs.open(f"{repo_id}/data/blob.bin", "rb", block_size=64 * 1024) as file:
        file.seek(3 * MB - 17)
        assert file.read(100_000) == data[3 * MB - 17 : 3 * MB - 17 + 100_000]
    before = reconstructions(xet_plaza)
    fs.get_file(f"{repo_id}/data/blob.bin", str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert reconstructions(xet_plaza) > before


def test_each_revision_downloads_its_own_bytes_through_xet(xet_plaza, xet_api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    xet_api.create_repo(repo_id)
    data = bytearray(random_bytes(4 * MB, seed=90))
    revisions = []
    for number in range(3):
        data[number * MB : number * MB + 4096] = random_bytes(4096, seed=91 + number)
        upload(xet_api, repo_id, "model.bin", bytes(data), tmp_path)
        revisions.append((xet_api.model_info(repo_id).sha, bytes(data)))
    before = reconstructions(xet_plaza)
    for sha, content in revisions:
        path = hf_hub_download(
            repo_id,
            "model.bin",
            revision=sha,
            endpoint=xet_plaza.url,
            token=xet_api.token,
            cache_dir=tmp_path / "c",
        )
        assert Path(path).read_bytes() == content
    assert reconstructions(xet_plaza) >= before + len(revisions)


def test_transformers_loads_weights_fetched_through_xet(xet_plaza, xet_api, repo_name, tmp_path):
    from transformers import AutoModel

    repo_id = f"alice/{repo_name}"
    xet_api.create_repo(repo_id)
    model = tiny_model(11)
    model.save_pretrained(tmp_path / "saved")
    xet_api.upload_folder(folder_path=tmp_path / "saved", repo_id=repo_id)
    before = reconstructions(xet_plaza)
    local = snapshot_download(repo_id, endpoint=xet_plaza.url, token=xet_api.token, cache_dir=tmp_path / "c")
    assert reconstructions(xet_plaza) > before  # model.safetensors came from the CAS
    assert same_weights(AutoModel.from_pretrained(local), model)


def _rebuild(answer: dict, token: str) -> bytes:
    """The bytes a reconstruction answer describes, fetched and decoded as a Xet client does."""
    out = bytearray()
    for term in answer["terms"]:
        fetch = next(
            f
            for f in answer["fetch_info"][term["hash"]]
            if f["range"]["start"] <= term["range"]["start"] and term["range"]["end"] <= f["range"]["end"]
        )
        span = fetch["url_range"]
        response = httpx.get(fetch["url"], headers={"range": f"bytes={span['start']}-{span['end']}"})
        assert response.status_code == 206
        chunks = parse_xorb(response.content)
        first = term["range"]["start"] - fetch["range"]["start"]
        piece = b"".join(
            c.data for c in chunks[first : first + term["range"]["end"] - term["range"]["start"]]
        )
        assert len(piece) == term["unpacked_length"]
        out += piece
    return bytes(out[answer["offset_into_first_range"] :])


def test_reconstruction_api(xet_plaza, xet_api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    other_id = f"alice/{repo_name}-other"
    xet_api.create_repo(repo_id)
    xet_api.create_repo(other_id)
    data = random_bytes(5 * MB, seed=70)
    upload(xet_api, repo_id, "w.bin", data, tmp_path)
    head = httpx.head(f"{xet_plaza.url}/{repo_id}/resolve/main/w.bin", headers=auth(xet_api.token))
    url = f"{xet_plaza.url}/cas/v1/reconstructions/{head.headers['X-Xet-Hash']}"
    token = read_token(xet_plaza, repo_id)

    whole = httpx.get(url, headers=auth(token))
    assert whole.status_code == 200
    assert _rebuild(whole.json(), token) == data
    start, end = 2 * MB + 12345, 3 * MB + 999
    ranged = httpx.get(url, headers={**auth(token), "range": f"bytes={start}-{end}"})
    assert ranged.status_code == 200
    assert _rebuild(ranged.json(), token)[: end - start + 1] == data[start : end + 1]
    assert len(ranged.json()["terms"]) >= 1

    # A token of another repo, none, a bad hash, a range past the end, a forged xorb link.
    assert httpx.get(url, headers=auth(read_token(xet_plaza, other_id))).status_code == 404
    assert httpx.get(url).status_code == 401
    assert httpx.get(f"{xet_plaza.url}/cas/v1/reconstructions/nothex", headers=auth(token)).status_code == 400
    past = httpx.get(url, headers={**auth(token), "range": f"bytes={len(data)}-{len(data) + 10}"})
    assert past.status_code == 416
    xorb_url = next(iter(whole.json()["fetch_info"].values()))[0]["url"]
    assert httpx.get(xorb_url.split("?")[0] + "?sig=forged.sig").status_code == 401
    assert httpx.get(xorb_url.split("?")[0]).status_code == 401


def test_nothing_xet_is_advertised_by_default(plaza, api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    data = random_bytes(3 * MB, seed=80)
    upload(api, repo_id, "weights.bin", data, tmp_path)
    head = httpx.head(f"{plaza.url}/{repo_id}/resolve/main/weights.bin", headers=auth(api.token))
    assert head.status_code == 200
    assert not [h for h in head.headers if h.lower().startswith("x-xet")]
    assert "xet-auth" not in head.links
    tree = httpx.get(f"{plaza.url}/api/models/{repo_id}/tree/main", headers=auth(api.token)).json()
    info = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/paths-info/main",
        data={"paths": ["weights.bin"], "expand": "false"},
        headers=auth(api.token),
    ).json()
    assert next(e for e in tree if e["path"] == "weights.bin")["lfs"]
    assert info and all("xetHash" not in e for e in tree + info)

    # The client then downloads the Xet-uploaded file over plain HTTP, rebuilt by the plaza.
    before = reconstructions(plaza)
    path = hf_hub_download(
        repo_id, "weights.bin", endpoint=plaza.url, token=api.token, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == data
    assert reconstructions(plaza) == before
