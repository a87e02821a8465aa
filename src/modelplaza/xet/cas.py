"""The Xet content-addressed store: xorbs and shards come in and are checked; files they
describe are kept as chunks only (``modelplaza.xet.reader`` rebuilds their bytes on read)
and registered by sha256, so a commit names them like any LFS file; chunk lookups answer
the clients' deduplication queries."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.db.models import XetFile, Xorb, XorbChunk
from modelplaza.errors import BadRequest, PayloadTooLarge
from modelplaza.hub.commits import register_blob
from modelplaza.storage import BlobStore
from modelplaza.xet import reader
from modelplaza.xet.hashing import hash_to_hex, hex_to_hash, xorb_hash
from modelplaza.xet.shard import (
    ShardFile,
    ShardFormatError,
    ShardXorb,
    ShardXorbChunk,
    dedup_answer,
    parse_shard,
    verify_file,
)
from modelplaza.xet.xorb import ChunkHeader, XorbFormatError, parse_xorb, read_chunk_headers
from modelplaza.xet.xorb import XorbChunk as ParsedChunk

MAX_XORB_SIZE = 64 * 1024 * 1024
DEDUP_KEY_TTL = 7 * 24 * 3600
MAX_SHARD_SIZE = 64 * 1024 * 1024


def parse_hash(text: str) -> bytes:
    try:
        return hex_to_hash(text)
    except ValueError:
        raise BadRequest(f"Invalid hash {text!r}: expected 64 hex characters") from None


def store_xorb(session: Session, xorbs: BlobStore, hash_hex: str, body: bytes) -> bool:
    """Keep a xorb after checking its format and that its chunks hash to its name.
    Idempotent: False when the xorb was held already."""
    claimed = parse_hash(hash_hex)
    hash_hex = hash_to_hex(claimed)
    if len(body) > MAX_XORB_SIZE:
        raise PayloadTooLarge(f"A xorb may have at most {MAX_XORB_SIZE} bytes, this one has {len(body)}")
    try:
        chunks = parse_xorb(body)
    except XorbFormatError as exc:
        raise BadRequest(f"Invalid xorb: {exc}") from None
    computed = xorb_hash([(c.hash, len(c.data)) for c in chunks])
    if computed != claimed:
        raise BadRequest(f"Xorb content hashes to {hash_to_hex(computed)}, not to {hash_hex}")
    if session.get(Xorb, hash_hex) is not None:
        return False
    xorbs.put_keyed(hash_hex, body)
    try:
        with session.begin_nested():
            session.add(Xorb(hash=hash_hex, size=len(body), num_chunks=len(chunks)))
            session.flush()
            session.execute(insert(XorbChunk), list(_chunk_rows(hash_hex, chunks, read_chunk_headers(body))))
    except IntegrityError:
        return False  # The same xorb arrived concurrently.
    return True


def _chunk_rows(hash_hex: str, chunks: list[ParsedChunk], headers: list[ChunkHeader]) -> Iterator[dict]:
    start = 0
    for index, (chunk, header) in enumerate(zip(chunks, headers, strict=True)):
        yield {
            "xorb_hash": hash_hex,
            "index": index,
            "chunk_hash": hash_to_hex(chunk.hash),
            "byte_start": start,
            "unpacked_size": len(chunk.data),
            "packed_start": header.offset,
        }
        start += len(chunk.data)


def _xorb_chunks(session: Session, hash_hex: str) -> list[XorbChunk]:
    return list(
        session.scalars(select(XorbChunk).where(XorbChunk.xorb_hash == hash_hex).order_by(XorbChunk.index))
    )


def register_shard(session: Session, xorbs: BlobStore, body: bytes) -> list[str]:
    """Check a shard and register every file it declares, after checking that the chunks
    rebuild it to the sha256 it claims. Returns the files' sha256. Nothing is kept for a
    shard that fails any check."""
    if len(body) > MAX_SHARD_SIZE:
        raise PayloadTooLarge(f"A shard may have at most {MAX_SHARD_SIZE} bytes")
    try:
        shard = parse_shard(body)
    except ShardFormatError as exc:
        raise BadRequest(f"Invalid shard: {exc}") from None
    known = {}
    for file in shard.files:
        for term in file.terms:
            key = hash_to_hex(term.xorb_hash)
            if key not in known:
                rows = _xorb_chunks(session, key)
                if not rows:
                    raise BadRequest(f"The shard names xorb {key}, which was never uploaded")
                known[key] = rows
        _verify(file, known)
    return [_register_file(session, xorbs, file, known) for file in shard.files]


def _verify(file: ShardFile, known: dict[str, list[XorbChunk]]) -> None:
    chunk_lists = {
        hex_to_hash(k): [(hex_to_hash(c.chunk_hash), c.unpacked_size) for c in rows]
        for k, rows in known.items()
    }
    for term in file.terms:
        count = len(known[hash_to_hex(term.xorb_hash)])
        if not 0 <= term.chunk_start < term.chunk_end <= count:
            raise BadRequest(
                f"The shard asks for chunks {term.chunk_start}..{term.chunk_end} of a xorb with {count}"
            )
    if not verify_file(file, chunk_lists):
        raise BadRequest(f"File {hash_to_hex(file.file_hash)} does not hash to what its chunks make")


def _register_file(
    session: Session, xorbs: BlobStore, file: ShardFile, known: dict[str, list[XorbChunk]]
) -> str:
    file_hex = hash_to_hex(file.file_hash)
    existing = session.get(XetFile, file_hex)
    if existing is not None:
        return existing.sha256
    terms = [[hash_to_hex(t.xorb_hash), t.chunk_start, t.chunk_end, t.unpacked_size] for t in file.terms]
    size = sum(t.unpacked_size for t in file.terms)
    sha256 = _rebuilt_sha256(xorbs, terms, known, size)
    if file.sha256 is not None and file.sha256 != sha256:
        raise BadRequest(f"File {file_hex}: its chunks have sha256 {sha256}, the shard says {file.sha256}")
    register_blob(session, sha256, size)
    session.add(XetFile(file_hash=file_hex, sha256=sha256, size=size, terms=terms))
    session.flush()
    return sha256


def _rebuilt_sha256(xorbs: BlobStore, terms: list, known: dict[str, list[XorbChunk]], size: int) -> str:
    """The sha256 of the file the terms make, streamed from the xorbs without keeping it."""

    def chunks(xorb: str, first: int, end: int) -> list[tuple[int | None, int]]:
        return [(c.packed_start, c.unpacked_size) for c in known[xorb][first:end]]

    digest = hashlib.sha256()
    for data in reader.read_spans(xorbs, reader.plan(terms, chunks, 0, size - 1), 1 << 20):
        digest.update(data)
    return digest.hexdigest()


def dedup_shard(session: Session, chunk_hex: str) -> bytes | None:
    """For the global deduplication query: a shard describing the xorb that holds the chunk."""
    chunk_hex = hash_to_hex(parse_hash(chunk_hex))
    xorb_key = session.scalar(select(XorbChunk.xorb_hash).where(XorbChunk.chunk_hash == chunk_hex).limit(1))
    if xorb_key is None:
        return None
    xorb = session.get(Xorb, xorb_key)
    chunks = tuple(
        ShardXorbChunk(hex_to_hash(c.chunk_hash), c.byte_start, c.unpacked_size)
        for c in _xorb_chunks(session, xorb_key)
    )
    now = int(time.time())
    # Keyed with a fresh random key: the client can match the chunks it already has, but
    # cannot learn the others' hashes and claim content it never held.
    return dedup_answer(
        [ShardXorb(hex_to_hash(xorb_key), chunks, xorb.size)], os.urandom(32), now + DEDUP_KEY_TTL, now
    )
