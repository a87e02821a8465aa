"""The Xet content-addressed store: xorbs and shards come in and are checked; files they
describe are kept as chunks only (``modelplaza.xet.reader`` rebuilds their bytes on read)
and registered by sha256, so a commit names them like any LFS file; chunk lookups answer
the clients' deduplication queries."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.db.blobs import record_received, register_blob
from modelplaza.db.models import XetFile, Xorb, XorbChunk
from modelplaza.errors import BadRequest, PayloadTooLarge
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
from modelplaza.xet.xorb import MAX_XORB_SIZE, XorbFormatError, XorbReader

DEDUP_KEY_TTL = 7 * 24 * 3600
MAX_SHARD_SIZE = 64 * 1024 * 1024


def parse_hash(text: str) -> bytes:
    try:
        return hex_to_hash(text)
    except ValueError:
        raise BadRequest(f"Invalid hash {text!r}: expected 64 hex characters") from None


class XorbUpload:
    """A xorb as its body arrives, taken piece by piece (``write``): each chunk is checked as
    soon as its bytes are in and every byte goes straight to the xorb store, so the xorb is
    neither held whole nor read back. ``finish`` ends the checks and keeps it; ``store_xorb``
    then records it."""

    def __init__(self, xorbs: BlobStore, hash_hex: str) -> None:
        self.claimed = parse_hash(hash_hex)
        self.key = hash_to_hex(self.claimed)
        self._reader = XorbReader()
        self._writer = xorbs.keyed_writer()

    def write(self, data: bytes) -> None:
        if self._reader.size + len(data) > MAX_XORB_SIZE:
            raise PayloadTooLarge(f"A xorb may have at most {MAX_XORB_SIZE} bytes")
        try:
            self._reader.feed(data)
        except XorbFormatError as exc:
            raise BadRequest(f"Invalid xorb: {exc}") from None
        self._writer.write(data)

    def finish(self) -> None:
        """Check that the chunks make a whole xorb that hashes to its name, then keep it (and
        fsync it: run this outside any database transaction)."""
        try:
            self._reader.close()
        except XorbFormatError as exc:
            raise BadRequest(f"Invalid xorb: {exc}") from None
        computed = xorb_hash(
            [(h, c.size) for h, c in zip(self._reader.hashes, self._reader.headers, strict=True)]
        )
        if computed != self.claimed:
            raise BadRequest(f"Xorb content hashes to {hash_to_hex(computed)}, not to {self.key}")
        self._writer.finish(self.key)  # False when held already: the bytes are the same.

    def abort(self) -> None:
        """Drop what was received unless ``finish`` kept it."""
        self._writer.abort()

    @property
    def size(self) -> int:
        return self._reader.size

    @property
    def num_chunks(self) -> int:
        return len(self._reader.headers)

    def chunk_rows(self) -> Iterator[dict]:
        start = 0
        for index, (chunk, header) in enumerate(zip(self._reader.hashes, self._reader.headers, strict=True)):
            yield {
                "xorb_hash": self.key,
                "index": index,
                "chunk_hash": hash_to_hex(chunk),
                "byte_start": start,
                "unpacked_size": header.size,
                "packed_start": header.offset,
            }
            start += header.size


def store_xorb(session: Session, upload: XorbUpload) -> bool:
    """Record a finished xorb upload. Idempotent: False when the xorb was held already."""
    if session.get(Xorb, upload.key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Xorb(hash=upload.key, size=upload.size, num_chunks=upload.num_chunks))
            session.flush()
            session.execute(insert(XorbChunk), list(upload.chunk_rows()))
    except IntegrityError:
        return False  # The same xorb arrived concurrently.
    return True


def _xorb_chunks(session: Session, hash_hex: str) -> list[Row]:
    """A xorb's chunks in order, as plain rows: a large file's thousands load faster so."""
    columns = (XorbChunk.chunk_hash, XorbChunk.byte_start, XorbChunk.unpacked_size, XorbChunk.packed_start)
    query = select(*columns).where(XorbChunk.xorb_hash == hash_hex).order_by(XorbChunk.index)
    return list(session.execute(query))


@dataclass(frozen=True)
class CheckedFile:
    """A file a shard declares, checked against its xorbs: ready to register."""

    file_hash: str
    sha256: str
    size: int
    terms: list  # as XetFile keeps them


def check_shard(session: Session, xorbs: BlobStore, body: bytes) -> list[CheckedFile]:
    """Check a shard and every file it declares, rebuilding each new one from the chunks to
    learn its sha256 (and compare it with the one the shard claims). Reads only: run it in a
    read transaction, then ``register_shard`` in a write one."""
    if len(body) > MAX_SHARD_SIZE:
        raise PayloadTooLarge(f"A shard may have at most {MAX_SHARD_SIZE} bytes")
    try:
        shard = parse_shard(body)
    except ShardFormatError as exc:
        raise BadRequest(f"Invalid shard: {exc}") from None
    known: dict[str, list[Row]] = {}
    hashes: dict[bytes, list[tuple[bytes, int]]] = {}  # what verify_file takes
    for file in shard.files:
        for term in file.terms:
            key = hash_to_hex(term.xorb_hash)
            if key not in known:
                rows = _xorb_chunks(session, key)
                if not rows:
                    raise BadRequest(f"The shard names xorb {key}, which was never uploaded")
                known[key] = rows
                hashes[term.xorb_hash] = [(hex_to_hash(c.chunk_hash), c.unpacked_size) for c in rows]
        _verify(file, hashes)
    return [_check_file(session, xorbs, file, known) for file in shard.files]


def register_shard(session: Session, files: list[CheckedFile], repo_id: int) -> list[str]:
    """Register the files ``check_shard`` checked, as sent to the repo ``repo_id`` (whose CAS
    token the shard came with: its writers may commit them); returns their sha256. Nothing is
    kept if a xorb they name went away (garbage collected) since.

    A shard proves its sender holds each file's content: its terms must name the very chunks
    whose hashes make the file's hash, which only the bytes give (deduplication answers show
    chunk hashes keyed, never as they are)."""
    names = {term[0] for file in files for term in file.terms}
    present = set(session.scalars(select(Xorb.hash).where(Xorb.hash.in_(names))))
    if missing := sorted(names - present):
        raise BadRequest(f"The shard names xorb {missing[0]}, which is no longer stored")
    registered = [_register_file(session, file) for file in files]
    for sha256 in sorted(set(registered)):  # In a fixed order, as commits register content.
        record_received(session, repo_id, sha256)
    return registered


def _verify(file: ShardFile, hashes: dict[bytes, list[tuple[bytes, int]]]) -> None:
    for term in file.terms:
        count = len(hashes[term.xorb_hash])
        if not 0 <= term.chunk_start < term.chunk_end <= count:
            raise BadRequest(
                f"The shard asks for chunks {term.chunk_start}..{term.chunk_end} of a xorb with {count}"
            )
    if not verify_file(file, hashes):
        raise BadRequest(f"File {hash_to_hex(file.file_hash)} does not hash to what its chunks make")


def _check_file(
    session: Session, xorbs: BlobStore, file: ShardFile, known: dict[str, list[Row]]
) -> CheckedFile:
    file_hex = hash_to_hex(file.file_hash)
    existing = session.get(XetFile, file_hex)
    if existing is not None:
        return CheckedFile(file_hex, existing.sha256, existing.size, existing.terms)
    terms = [[hash_to_hex(t.xorb_hash), t.chunk_start, t.chunk_end, t.unpacked_size] for t in file.terms]
    size = sum(t.unpacked_size for t in file.terms)
    sha256 = _rebuilt_sha256(xorbs, terms, known, size)
    if file.sha256 is not None and file.sha256 != sha256:
        raise BadRequest(f"File {file_hex}: its chunks have sha256 {sha256}, the shard says {file.sha256}")
    return CheckedFile(file_hex, sha256, size, terms)


def _register_file(session: Session, file: CheckedFile) -> str:
    existing = session.get(XetFile, file.file_hash)
    if existing is not None:
        return existing.sha256
    register_blob(session, file.sha256, file.size)
    session.add(XetFile(file_hash=file.file_hash, sha256=file.sha256, size=file.size, terms=file.terms))
    session.flush()
    return file.sha256


def _rebuilt_sha256(xorbs: BlobStore, terms: list, known: dict[str, list[Row]], size: int) -> str:
    """The sha256 of the file the terms make, streamed from the xorbs without keeping it."""

    def chunks(xorb: str, first: int, end: int) -> list[tuple[int | None, int]]:
        return [(c.packed_start, c.unpacked_size) for c in known[xorb][first:end]]

    digest = hashlib.sha256()
    for data in reader.span_pieces(xorbs, reader.plan(terms, chunks, 0, size - 1)):
        digest.update(data)
    return digest.hexdigest()


def dedup_shard(session: Session, chunk_hex: str) -> bytes | None:
    """For the global deduplication query: a shard describing the xorb that holds the chunk."""
    chunk_hex = hash_to_hex(parse_hash(chunk_hex))
    xorb_key = session.scalar(select(XorbChunk.xorb_hash).where(XorbChunk.chunk_hash == chunk_hex).limit(1))
    if xorb_key is None:
        return None
    xorb = session.get_one(Xorb, xorb_key)
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
