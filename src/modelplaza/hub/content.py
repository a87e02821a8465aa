"""The bytes of a committed file, by sha256: THE place deciding where they come from.

A file uploaded through LFS or inline is a whole blob in the blob store; a file uploaded
through Xet lives only as chunks in xorbs and is rebuilt from them as it is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import XetFile
from modelplaza.errors import NotFound
from modelplaza.hub.trees import repo_holds
from modelplaza.storage import BlobStore, Delivery, Stream
from modelplaza.xet import reader
from modelplaza.xet.cas import parse_hash
from modelplaza.xet.hashing import hash_to_hex

CHUNK = 4 << 20


@dataclass(frozen=True)
class Opened:
    """Bytes ``start..end`` (inclusive) of a file of ``size`` bytes, and how to send them: the
    blob store's answer for a whole blob, a stream rebuilt from chunks for a Xet file."""

    size: int
    start: int
    end: int
    delivery: Delivery


class Contents:
    def __init__(self, blobs: BlobStore, xorbs: BlobStore) -> None:
        self.blobs = blobs
        self.xorbs = xorbs

    def _xet_file(self, session: Session, sha256: str) -> XetFile | None:
        return session.scalars(select(XetFile).where(XetFile.sha256 == sha256).limit(1)).first()

    def _required_xet_file(self, session: Session, sha256: str) -> XetFile:
        xet_file = self._xet_file(session, sha256)
        if xet_file is None:
            raise FileNotFoundError(f"No content is held for sha256 {sha256}")
        return xet_file

    def xet_hashes(self, session: Session, sha256s: set[str]) -> dict[str, str]:
        """The Xet file hash of each of these files that was uploaded through Xet."""
        if not sha256s:
            return {}
        rows = session.execute(select(XetFile.sha256, XetFile.file_hash).where(XetFile.sha256.in_(sha256s)))
        return {sha256: file_hash for sha256, file_hash in rows}

    def held(self, session: Session, sha256: str) -> bool:
        return self.blobs.exists(sha256) or self._xet_file(session, sha256) is not None

    def held_as_chunks_only(self, session: Session, sha256: str) -> bool:
        """Whether the content is held as Xet chunks and not as a whole blob."""
        return not self.blobs.exists(sha256) and self._xet_file(session, sha256) is not None

    def open(
        self, session: Session, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK
    ) -> Opened:
        """The file's bytes ``start..end`` (the whole file by default), ready to send. Chunk
        locations are looked up with ``session``; the bytes may be sent after it has closed."""
        if self.blobs.exists(sha256):
            size = self.blobs.size(sha256)
            end = size - 1 if end is None else end
            return Opened(size, start, end, self.blobs.deliver(sha256, start, end))
        xet_file = self._required_xet_file(session, sha256)
        end = xet_file.size - 1 if end is None else end
        chunks = reader.read_range(session, self.xorbs, xet_file.terms, start, end, chunk_size)
        return Opened(xet_file.size, start, end, Stream(chunks))

    def read_range(
        self, session: Session, sha256: str, start: int, end: int, chunk_size: int = CHUNK
    ) -> Iterator[bytes]:
        """The file's bytes ``start..end``, to read here; as with ``open``, they may be read
        after ``session`` has closed."""
        if self.blobs.exists(sha256):
            return self.blobs.read_range(sha256, start, end, chunk_size)
        xet_file = self._required_xet_file(session, sha256)
        return reader.read_range(session, self.xorbs, xet_file.terms, start, end, chunk_size)

    def size(self, session: Session, sha256: str) -> int:
        if self.blobs.exists(sha256):
            return self.blobs.size(sha256)
        return self._required_xet_file(session, sha256).size

    def read_bytes(self, session: Session, sha256: str) -> bytes:
        return b"".join(self.read_range(session, sha256, 0, self.size(session, sha256) - 1))


def readable_xet_file(session: Session, repo_id: int, file_hex: str) -> XetFile:
    """The Xet file, if some commit of the repo has it; NotFound otherwise, so that a token
    for one repo tells nothing about files held only by others."""
    file_hex = hash_to_hex(parse_hash(file_hex))
    xet_file = session.get(XetFile, file_hex)
    if xet_file is None or not repo_holds(session, repo_id, xet_file.sha256):
        raise NotFound(f"No file with Xet hash {file_hex} in this repository")
    return xet_file
