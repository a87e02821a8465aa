"""The bytes of a committed file, by sha256: THE place deciding where they come from.

A file uploaded through LFS or inline is a whole blob in the blob store; a file uploaded
through Xet lives only as chunks in xorbs and is rebuilt from them as it is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import XetFile
from modelplaza.storage import LocalBlobStore
from modelplaza.xet import reader

CHUNK = 4 << 20


@dataclass(frozen=True)
class Opened:
    """Bytes ``start..end`` (inclusive) of a file of ``size`` bytes, read as ``chunks`` is
    consumed. ``path`` is the whole blob on disk, when there is one, for zero-copy sending."""

    size: int
    start: int
    end: int
    path: Path | None
    chunks: Iterator[bytes]


class Contents:
    def __init__(self, blobs: LocalBlobStore, xorbs: LocalBlobStore) -> None:
        self.blobs = blobs
        self.xorbs = xorbs

    def _xet_file(self, session: Session, sha256: str) -> XetFile | None:
        return session.scalars(select(XetFile).where(XetFile.sha256 == sha256).limit(1)).first()

    def xet_hashes(self, session: Session, sha256s: set[str]) -> dict[str, str]:
        """The Xet file hash of each of these files that was uploaded through Xet."""
        if not sha256s:
            return {}
        rows = session.execute(select(XetFile.sha256, XetFile.file_hash).where(XetFile.sha256.in_(sha256s)))
        return {sha256: file_hash for sha256, file_hash in rows}

    def held(self, session: Session, sha256: str) -> bool:
        return self.blobs.exists(sha256) or self._xet_file(session, sha256) is not None

    def open(
        self, session: Session, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK
    ) -> Opened:
        """The file's bytes ``start..end`` (the whole file by default). Chunk locations are
        looked up with ``session``; the bytes may be read after it has closed."""
        if self.blobs.exists(sha256):
            size = self.blobs.size(sha256)
            end = size - 1 if end is None else end
            chunks = self.blobs.read_range(sha256, start, end, chunk_size)
            return Opened(size, start, end, self.blobs.path(sha256), chunks)
        xet_file = self._xet_file(session, sha256)
        if xet_file is None:
            raise FileNotFoundError(f"No content is held for sha256 {sha256}")
        end = xet_file.size - 1 if end is None else end
        chunks = reader.read_range(session, self.xorbs, xet_file.terms, start, end, chunk_size)
        return Opened(xet_file.size, start, end, None, chunks)

    def read_bytes(self, session: Session, sha256: str) -> bytes:
        return b"".join(self.open(session, sha256).chunks)
