"""The Xet formats against what the real client sends, and against every kind of broken input.

The real `hf_xet` client uploads to a small recording CAS started here; what it sends must parse,
hash to the names it was sent under, and rebuild the uploaded bytes exactly. Our deduplication
answers must be ones the client accepts and uses.
"""

from __future__ import annotations

import array
import glob
import hashlib
import json
import math
import os
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import hf_xet
import lz4.frame
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modelplaza.xet import (
    FileTerm,
    Shard,
    ShardFile,
    ShardFormatError,
    ShardXorb,
    ShardXorbChunk,
    XorbFormatError,
    chunk_hash,
    file_hash,
    hash_to_hex,
    hex_to_hash,
    parse_shard,
    parse_xorb,
    serialize_shard,
    serialize_xorb,
    verification_hash,
    verify_file,
    xorb_hash,
)
from modelplaza.xet.hashing import is_global_dedup_eligible, keyed_hash
from modelplaza.xet.shard import BOOKEND, HEADER_TAG, dedup_answer
from modelplaza.xet.xorb import (
    MAX_XORB_SIZE,
    CompressionScheme,
    XorbReader,
    bg4_group,
    bg4_ungroup,
    chunk_byte_offsets,
    read_chunk_headers,
    serialize_chunk,
)

REPO = "alice/tiny-model"


# --- a recording CAS ---------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingCas:
    """Answers what an upload needs and keeps every request; optionally answers dedup queries."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    xorbs: dict[bytes, bytes] = field(default_factory=dict)
    dedup: bool = False
    hmac_key: bytes = bytes(32)

    def cas_calls(self, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.path.startswith("/cas/")]

    def dedup_answer(self, chunk: bytes) -> Response:
        for name, body in self.xorbs.items():
            chunks = parse_xorb(body)
            if any(c.hash == chunk for c in chunks):
                entries, start = [], 0
                for c in chunks:
                    entries.append(ShardXorbChunk(c.hash, start, len(c.data)))
                    start += len(c.data)
                now = int(time.time())
                answer = dedup_answer(
                    [ShardXorb(name, tuple(entries), len(body))], self.hmac_key, now + 3600, now
                )
                return Response(answer, media_type="application/octet-stream")
        return Response(status_code=404)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        self.calls.append(Call(request.method, path, dict(request.headers), body))
        if path == f"/api/models/{REPO}/xet-write-token/main":
            return JSONResponse(
                {"accessToken": "cas-token", "exp": int(time.time()) + 3600, "casUrl": f"{self.url}/cas"}
            )
        if path.startswith("/cas/v1/chunks/default/") and self.dedup:
            return self.dedup_answer(hex_to_hash(path.rsplit("/", 1)[1]))
        if path.startswith("/cas/v1/xorbs/default/"):
            self.xorbs[hex_to_hash(path.rsplit("/", 1)[1])] = body
            return JSONResponse({"was_inserted": True})
        if path == "/cas/v1/shards":
            return JSONResponse({"result": 1})
        return Response(status_code=404)


@pytest.fixture(scope="module")
def cas():
    recorder = RecordingCas()
    app = Starlette(routes=[Route("/{path:path}", recorder.handle, methods=["GET", "POST", "PUT", "HEAD"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    recorder.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield recorder
    server.should_exit = True
    thread.join(10)
    sock.close()


def upload(cas: RecordingCas, blobs: list[bytes], cache_dir, monkeypatch) -> list[hf_xet.XetFileInfo]:
    """Upload with the real client, as huggingface_hub does, from an empty local cache."""
    monkeypatch.setenv("HF_XET_CACHE", str(cache_dir))
    session = hf_xet.XetSession()
    with session.new_upload_commit(
        token_refresh_url=f"{cas.url}/api/models/{REPO}/xet-write-token/main",
        token_refresh_headers={"Authorization": "Bearer hub-token"},
    ) as commit:
        handles = [commit.start_upload_bytes(blob, sha256=hf_xet.COMPUTE_SHA256) for blob in blobs]
    return [h.result().xet_info for h in handles]


def chunk_pairs(xorb_body: bytes) -> list[tuple[bytes, int]]:
    return [(c.hash, len(c.data)) for c in parse_xorb(xorb_body)]


def reconstruct(file: ShardFile, xorbs: dict[bytes, bytes]) -> bytes:
    parsed = {name: parse_xorb(body) for name, body in xorbs.items()}
    return b"".join(c.data for t in file.terms for c in parsed[t.xorb_hash][t.chunk_start : t.chunk_end])


def uploaded_shard(calls: list[Call]) -> tuple[bytes, Shard]:
    bodies = [c.body for c in calls if c.method == "POST" and c.path == "/cas/v1/shards"]
    assert len(bodies) == 1
    return bodies[0], parse_shard(bodies[0])


def check_upload(calls: list[Call], blobs: list[bytes], infos, xorbs: dict[bytes, bytes]) -> Shard:
    """Everything the client sent is well-formed, named by its hash and rebuilds the blobs."""
    sent = {c.path.rsplit("/", 1)[1]: c.body for c in calls if c.path.startswith("/cas/v1/xorbs/default/")}
    assert sent
    for name, body in sent.items():
        assert hash_to_hex(xorb_hash(chunk_pairs(body))) == name
    body, shard = uploaded_shard(calls)
    assert serialize_shard(shard, footer=False) == body  # nothing lost or misread
    assert {hash_to_hex(x.xorb_hash) for x in shard.xorbs} == set(sent)
    for x in shard.xorbs:
        pairs = chunk_pairs(sent[hash_to_hex(x.xorb_hash)])
        assert [(c.chunk_hash, c.unpacked_size) for c in x.chunks] == pairs
        assert x.unpacked_size == sum(size for _, size in pairs)
    hashes = {name: chunk_pairs(b) for name, b in xorbs.items()}
    by_sha = {f.sha256: f for f in shard.files}
    assert len(by_sha) == len(shard.files) == len(blobs)
    for blob, info in zip(blobs, infos, strict=True):
        file = by_sha[hashlib.sha256(blob).hexdigest()]
        assert hash_to_hex(file.file_hash) == info.hash
        assert verify_file(file, hashes)
        assert sum(t.unpacked_size for t in file.terms) == len(blob)
        assert all(t.verification_hash is not None for t in file.terms)
        assert reconstruct(file, xorbs) == blob
    return shard


# --- the real client ---------------------------------------------------------------------------


def _floats(n: int) -> bytes:
    return array.array("f", [math.sin(i / 300) * 100 for i in range(n)]).tobytes()


def test_real_client_upload_parses_hashes_and_rebuilds(cas, tmp_path, monkeypatch):
    rng = random.Random(4)
    blobs = [
        rng.randbytes(3_000_000),  # incompressible: stored chunks
        rng.randbytes(5_000),  # a single chunk, under the minimum chunk size
        b"ModelPlaza keeps every version of every model. " * 25_000,  # repeats: LZ4
        _floats(300_000),  # float32 weights: byte grouping + LZ4
        b"",  # an empty file: a file entry with no terms
    ]
    start = len(cas.calls)
    infos = upload(cas, blobs, tmp_path / "cache", monkeypatch)
    calls = cas.calls[start:]
    shard = check_upload(calls, blobs, infos, cas.xorbs)

    schemes = {
        h.scheme for c in calls if c.path.startswith("/cas/v1/xorbs/") for h in read_chunk_headers(c.body)
    }
    assert schemes == {CompressionScheme.NONE, CompressionScheme.LZ4, CompressionScheme.BG4_LZ4}
    empty = next(f for f in shard.files if not f.terms)
    assert empty.file_hash == file_hash([]) == bytes(32)
    # Clients leave the serialized size of their xorbs at 0 and set no chunk flags.
    assert all(x.serialized_size == 0 for x in shard.xorbs)
    assert all(c.flags == 0 for x in shard.xorbs for c in x.chunks)


def test_real_client_call_sequence_and_headers(cas, tmp_path, monkeypatch):
    start = len(cas.calls)
    blob = random.Random(5).randbytes(300_000)
    upload(cas, [blob], tmp_path / "cache", monkeypatch)
    calls = [c for c in cas.calls[start:] if c.path != "/v1/telemetry"]
    token, *cas_calls = calls
    assert (token.method, token.path) == ("GET", f"/api/models/{REPO}/xet-write-token/main")
    assert token.headers["authorization"] == "Bearer hub-token"
    assert [(c.method, c.path.split("/")[2:4]) for c in cas_calls] == [
        ("GET", ["v1", "chunks"]),  # global dedup query for the first chunk: 404 = unknown
        ("POST", ["v1", "xorb-grants"]),  # 404: no presigned upload, post the xorb itself
        ("POST", ["v1", "xorbs"]),
        ("POST", ["v2", "shards"]),  # 404: falls back to v1
        ("POST", ["v1", "shards"]),
    ]
    assert all(c.headers["authorization"] == "Bearer cas-token" for c in cas_calls)
    assert all(c.headers["user-agent"].startswith("hf_xet/") for c in cas_calls)
    query, grant, xorb = cas_calls[:3]
    assert query.path.startswith("/cas/v1/chunks/default/")
    assert hex_to_hash(query.path.rsplit("/", 1)[1]) == parse_xorb(xorb.body)[0].hash
    grant_body = json.loads(grant.body)
    assert grant_body["length"] == len(xorb.body) and grant_body["checksum"]["algo"] == "crc64nvme"
    assert grant.path.rsplit("/", 1)[1] == xorb.path.rsplit("/", 1)[1]
    assert cas_calls[3].body == cas_calls[4].body


def test_real_client_deduplicates_against_our_dedup_answer(cas, tmp_path, monkeypatch):
    rng = random.Random(6)
    first = rng.randbytes(3_000_000)
    second = first[:1_500_000] + rng.randbytes(1_000) + first[1_500_000:]
    upload(cas, [first], tmp_path / "cache-1", monkeypatch)

    cas.dedup, cas.hmac_key = True, os.urandom(32)
    try:
        start = len(cas.calls)
        infos = upload(cas, [second], tmp_path / "cache-2", monkeypatch)  # no local cache to lean on
    finally:
        cas.dedup, cas.hmac_key = False, bytes(32)
    calls = cas.calls[start:]
    sent = sum(len(c.body) for c in calls if c.path.startswith("/cas/v1/xorbs/"))
    assert sent < 500_000  # only the chunks around the change travelled
    shard = check_upload(calls, [second], infos, cas.xorbs)
    new_xorbs = {x.xorb_hash for x in shard.xorbs}
    assert any(t.xorb_hash not in new_xorbs for t in shard.files[0].terms)  # reused stored chunks


def test_real_client_cached_shard_with_footer_round_trips(cas, tmp_path, monkeypatch):
    blobs = [random.Random(7).randbytes(400_000), b"config " * 100]
    start = len(cas.calls)
    upload(cas, blobs, tmp_path / "cache", monkeypatch)
    _, uploaded = uploaded_shard(cas.calls[start:])
    cached = glob.glob(str(tmp_path / "cache" / "*" / "shard-cache" / "*.mdb"))
    assert cached
    for path in cached:
        body = Path(path).read_bytes()  # the client's own footer and lookup tables
        shard = parse_shard(body)
        assert (set(shard.files), set(shard.xorbs)) == (set(uploaded.files), set(uploaded.xorbs))
        assert shard.key_expiry > shard.created > 0
        assert serialize_shard(shard) == body


def test_hashes_agree_with_the_client_hasher(tmp_path):
    small = tmp_path / "small"
    small.write_bytes(b"hello world" * 100)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    got = [info.hash for info in hf_xet.hash_files([str(small), str(empty)])]
    assert got == [hash_to_hex(file_hash([(chunk_hash(b"hello world" * 100), 1100)])), "0" * 64]


# --- hashing ------------------------------------------------------------------------------------


def test_hash_strings_reverse_each_8_byte_group():
    raw = bytes(range(32))
    # The spec's example, whose printed string drops the "10" byte of the third group.
    text = "07060504030201000f0e0d0c0b0a09081716151413121110" + "1f1e1d1c1b1a1918"
    assert hash_to_hex(raw) == text
    assert hex_to_hash(text) == raw
    assert hex_to_hash(text.upper()) == raw


@pytest.mark.parametrize(
    "bad", ["", "00" * 31, "00" * 33, "zz" + "00" * 31, " " + "0" * 63, "0" * 62 + "\n0", b"0" * 64, None]
)
def test_hex_to_hash_refuses_anything_but_64_hex_characters(bad):
    with pytest.raises(ValueError):
        hex_to_hash(bad)


def test_hash_to_hex_refuses_wrong_lengths():
    with pytest.raises(ValueError):
        hash_to_hex(bytes(31))


def test_merkle_tree_shape():
    pairs = [(chunk_hash(bytes([i])), i + 1) for i in range(40)]
    assert xorb_hash([]) == bytes(32)
    assert xorb_hash(pairs[:1]) == pairs[0][0]  # a single chunk is its own root
    assert xorb_hash(pairs) != xorb_hash(pairs[::-1])
    assert xorb_hash(pairs) != xorb_hash([(h, n + 1) for h, n in pairs])  # lengths are hashed too
    assert file_hash(pairs) != xorb_hash(pairs)
    assert verification_hash([h for h, _ in pairs[:3]]) != verification_hash([h for h, _ in pairs[:4]])
    eligible = bytes(24) + (1024 * 7).to_bytes(8, "little")
    assert is_global_dedup_eligible(eligible) and not is_global_dedup_eligible(
        eligible[:-8] + bytes([1]) + bytes(7)
    )


# --- xorbs --------------------------------------------------------------------------------------


def test_serialize_xorb_round_trips_every_scheme():
    rng = random.Random(8)
    chunks = [rng.randbytes(70_000), b"abc" * 20_000, _floats(10_001)[:40_003], b"x"]
    for scheme in [None, *CompressionScheme]:
        body = serialize_xorb(chunks, scheme)
        parsed = parse_xorb(body)
        assert [c.data for c in parsed] == chunks
        assert [c.hash for c in parsed] == [chunk_hash(c) for c in chunks]
    auto = [h.scheme for h in read_chunk_headers(serialize_xorb(chunks))]
    assert auto[:2] == [CompressionScheme.NONE, CompressionScheme.LZ4]  # compress only when it pays


def test_chunk_byte_offsets_address_chunk_ranges():
    chunks = [b"a" * 1000, random.Random(9).randbytes(2000), b"b" * 3000]
    body = serialize_xorb(chunks)
    offsets = chunk_byte_offsets(body)
    assert offsets[0] == 0 and offsets[-1] == len(body) and len(offsets) == 4
    assert [c.data for c in parse_xorb(body[offsets[1] : offsets[3]])] == chunks[1:]


def test_byte_grouping_follows_the_spec():
    assert bg4_group(b"ABCDabcd12") == b"Aa1Bb2CcDd"
    for n in range(12):
        data = bytes(range(n))
        assert bg4_ungroup(bg4_group(data)) == data


def test_trailing_storage_footer_is_tolerated():
    body = serialize_xorb([b"one" * 100, b"two" * 100])
    assert [c.data for c in parse_xorb(body + b"XETBLOB\x01" + bytes(40))] == [b"one" * 100, b"two" * 100]


def _chunk(version=0, stored=b"hello", scheme=0, size=5) -> bytes:
    return (
        bytes([version])
        + len(stored).to_bytes(3, "little")
        + bytes([scheme])
        + size.to_bytes(3, "little")
        + stored
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty xorb"),
        (_chunk()[:5], "truncated"),
        (_chunk()[:-1], "truncated"),
        (_chunk() + _chunk()[:7], "truncated"),
        (_chunk(version=1), "version 1"),
        (_chunk() + b"\x07" + _chunk()[1:], "chunk 1"),
        (_chunk(scheme=3), "compression scheme 3"),
        (_chunk(size=4), "bad length"),
        (_chunk(stored=b"", size=0), "bad length"),
        (_chunk(stored=b"x" * 10, scheme=1, size=200_000), "bad length"),
        (_chunk(stored=b"not an lz4 frame", scheme=1, size=16), "decompression of chunk 0"),
        (_chunk(stored=lz4.frame.compress(b"x" * 100), scheme=1, size=99), "decompression"),
        (_chunk(stored=lz4.frame.compress(b"x" * 100), scheme=2, size=101), "decompression"),
        (_chunk(stored=lz4.frame.compress(b"x" * 100) + b"junk", scheme=1, size=100), "decompression"),
        (_chunk(stored=lz4.frame.compress(b"x" * 100)[:-3], scheme=1, size=100), "decompression"),
        (_chunk() + b"garbage!", "chunk 1"),
    ],
)
def test_malformed_xorbs_are_refused_with_a_reason(body, message):
    with pytest.raises(XorbFormatError, match=message):
        parse_xorb(body)
    with pytest.raises(XorbFormatError, match=message):
        _feed(body, 3)


def _feed(body: bytes, piece: int) -> XorbReader:
    """A reader fed the body in pieces of ``piece`` bytes, then closed."""
    reader = XorbReader()
    for start in range(0, len(body), piece):
        reader.feed(body[start : start + piece])
    reader.close()
    return reader


@pytest.mark.parametrize("piece", [1, 7, 8, 9, 4096, 1 << 30])
@pytest.mark.parametrize("scheme", [None, *CompressionScheme])
def test_xorb_fed_in_pieces_reads_as_a_whole_one(scheme, piece):
    rng = random.Random(5)
    chunks = [
        bytes([i]) * n if i % 2 else rng.randbytes(n) for i, n in enumerate([5000, 1, 70_000, 131_072, 17])
    ]
    body = serialize_xorb(chunks, scheme)
    reader = _feed(body + b"XETBLOB\x01" + bytes(40), piece)
    assert reader.hashes == [c.hash for c in parse_xorb(body)]
    assert reader.headers == read_chunk_headers(body)
    assert reader.size == len(body) + 48


def test_xorb_size_limit_leaves_room_for_the_chunk_headers():
    # 64 MiB of chunk data, the most hf_xet puts in a xorb, plus the chunks' headers.
    body = serialize_xorb([b"\1" * 65536] * 1024, CompressionScheme.NONE)
    assert len(body) > 64 * 1024 * 1024
    assert len(_feed(body, 1 << 20).hashes) == len(parse_xorb(body)) == 1024
    body += serialize_chunk(b"\1" * 65536, CompressionScheme.NONE) * 2
    assert len(body) > MAX_XORB_SIZE
    with pytest.raises(XorbFormatError, match="limit"):
        parse_xorb(body)
    with pytest.raises(XorbFormatError, match="limit"):
        _feed(body, 1 << 20)


def test_corrupted_chunk_bytes_change_the_xorb_hash():
    chunks = [random.Random(10).randbytes(20_000), b"weights" * 3000]
    body = bytearray(serialize_xorb(chunks, CompressionScheme.NONE))
    expected = xorb_hash([(chunk_hash(c), len(c)) for c in chunks])
    body[100] ^= 1
    assert xorb_hash(chunk_pairs(bytes(body))) != expected


def test_serialize_chunk_refuses_impossible_chunks():
    for data in [b"", b"x" * (128 * 1024 + 1)]:
        with pytest.raises(ValueError):
            serialize_chunk(data)
    with pytest.raises(ValueError):
        serialize_xorb([])


# --- shards -------------------------------------------------------------------------------------


def _sample_shard() -> tuple[Shard, dict[bytes, list[tuple[bytes, int]]]]:
    chunks = [b"alpha" * 500, b"beta" * 700, b"gamma" * 900]
    pairs = [(chunk_hash(c), len(c)) for c in chunks]
    name = xorb_hash(pairs)
    terms = (
        FileTerm(name, 0, 2, pairs[0][1] + pairs[1][1], verification_hash([pairs[0][0], pairs[1][0]])),
        FileTerm(name, 2, 3, pairs[2][1], verification_hash([pairs[2][0]])),
    )
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    entries, start = [], 0
    for h, size in pairs:
        entries.append(ShardXorbChunk(h, start, size))
        start += size
    shard = Shard((ShardFile(file_hash(pairs), terms, sha),), (ShardXorb(name, tuple(entries), 1234),))
    return shard, {name: pairs}


def test_shard_round_trips_with_and_without_footer():
    shard, hashes = _sample_shard()
    assert parse_shard(serialize_shard(shard, footer=False)) == shard
    keyed = replace(shard, hmac_key=os.urandom(32), key_expiry=2_000_000_000, created=1_900_000_000)
    assert parse_shard(serialize_shard(keyed)) == keyed
    assert verify_file(shard.files[0], hashes)
    unverified = replace(
        shard.files[0], terms=tuple(replace(t, verification_hash=None) for t in shard.files[0].terms)
    )
    assert parse_shard(serialize_shard(Shard((unverified,), ()), footer=False)).files == (unverified,)
    assert verify_file(unverified, hashes)


def test_dedup_answer_shows_only_keyed_chunk_hashes():
    shard, _ = _sample_shard()
    key = os.urandom(32)
    answer = parse_shard(dedup_answer(list(shard.xorbs), key, 2_000_000_000, 1_900_000_000))
    assert (answer.files, answer.hmac_key, answer.key_expiry, answer.created) == (
        (),
        key,
        2_000_000_000,
        1_900_000_000,
    )
    chunks = shard.xorbs[0].chunks
    assert [c.chunk_hash for c in answer.xorbs[0].chunks] == [keyed_hash(c.chunk_hash, key) for c in chunks]
    assert [c.unpacked_size for c in answer.xorbs[0].chunks] == [c.unpacked_size for c in chunks]
    with pytest.raises(ValueError):
        dedup_answer(list(shard.xorbs), bytes(32), 0, 0)


def test_verify_file_catches_every_mismatch():
    shard, hashes = _sample_shard()
    file = shard.files[0]
    (name, pairs), first = next(iter(hashes.items())), file.terms[0]
    assert not verify_file(file, {})
    assert not verify_file(file, {name: pairs[:2]})  # term past the xorb's end
    assert not verify_file(replace(file, file_hash=bytes(32)), hashes)
    assert not verify_file(replace(file, terms=(replace(first, unpacked_size=1), *file.terms[1:])), hashes)
    assert not verify_file(
        replace(file, terms=(replace(first, verification_hash=bytes(32)), *file.terms[1:])), hashes
    )
    assert not verify_file(replace(file, terms=file.terms[::-1]), hashes)


def _valid() -> bytes:
    return serialize_shard(_sample_shard()[0], footer=False)


def _with_footer() -> bytes:
    return serialize_shard(_sample_shard()[0])


def _patch(body: bytes, offset: int, data: bytes) -> bytes:
    return body[:offset] + data + body[offset + len(data) :]


def _u32(n: int) -> bytes:
    return struct.pack("<I", n)


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


# In _valid(): header at 0, file header at 48, terms at 96 and 144, verification entries at 192
# and 240, metadata at 288, bookend at 336, xorb header at 384, chunk entries at 432, 480, 528.
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "truncated"),
        (_valid()[:47], "truncated"),
        (_patch(_valid(), 0, b"X"), "wrong magic"),
        (b"\0" * 32 + _valid()[32:], "wrong magic"),
        (_patch(_valid(), 32, _u64(3)), "version 3"),
        (_patch(_valid(), 40, _u64(100)), "footer size 100"),
        (_valid()[:120], "truncated shard: 2 file terms"),
        (_valid()[:300], "truncated shard: metadata"),
        (_valid()[:400], "truncated shard: xorb header"),
        (_valid()[:500], "truncated"),
        (_valid()[:-10], "CAS info bookend"),
        (_valid()[:-48], "truncated"),  # the CAS bookend is missing
        (_valid() + b"\0", "stray bytes"),
        (_patch(_valid(), 84, _u32(0xFFFFFFFF)), "truncated shard: 4294967295 file terms"),
        (_patch(_valid(), 420, _u32(0xFFFFFFFF)), "4294967295 xorb chunk entries"),
        (_patch(_valid(), 420, _u32(0)), "lists no chunks"),
        (_patch(_valid(), 140, _u32(0)), r"chunk range \[0, 0\)"),
        (_patch(_valid(), 80, _u32(0)), "has no terms"),  # verification entries read as files
        (_patch(_valid(), 512, _u32(7)), "starts at 7"),
        (_patch(_valid(), 424, _u32(1)), "declares 1 bytes"),
        (_with_footer()[:-1], "footer|truncated"),
        (_patch(_with_footer(), len(_with_footer()) - 200, _u64(2)), "footer: version 2"),
        (_patch(_with_footer(), len(_with_footer()) - 8, _u64(12)), "bad footer: section offsets"),
        (_patch(_with_footer(), len(_with_footer()) - 184, _u64(0)), "bad footer: section offsets"),
        (_patch(_with_footer(), len(_with_footer()) - 176, _u64(10)), "lookup table"),
        (_patch(_with_footer(), len(_with_footer()) - 136, _u64(10**6)), "lookup table"),
    ],
)
def test_malformed_shards_are_refused_with_a_reason(body, message):
    with pytest.raises(ShardFormatError, match=message):
        parse_shard(body)


def test_shard_where_only_some_files_are_verified_is_refused():
    shard, _ = _sample_shard()
    plain = replace(
        shard.files[0], terms=tuple(replace(t, verification_hash=None) for t in shard.files[0].terms)
    )
    body = serialize_shard(Shard((shard.files[0], plain), shard.xorbs), footer=False)
    with pytest.raises(ShardFormatError, match="only some files"):
        parse_shard(body)


def test_header_tag_and_bookend_are_the_protocol_constants():
    assert len(HEADER_TAG) == 32 and HEADER_TAG.startswith(b"HFRepoMetaData\0")
    assert _valid().startswith(HEADER_TAG) and _valid().endswith(BOOKEND)
