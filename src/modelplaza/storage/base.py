"""The blob store interface: content addressed by sha256, shared by every repo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int


class BlobMismatch(ValueError):
    """Uploaded bytes do not match the sha256 or size they were declared with."""


class BlobTooLarge(ValueError):
    pass


class BlobWriter(Protocol):
    """Receives a blob's bytes in pieces; nothing is visible until ``finish`` succeeds."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self, expected_sha256: str | None = None, expected_size: int | None = None) -> BlobInfo:
        """Make the blob visible under its sha256, or raise BlobMismatch and keep nothing."""

    def abort(self) -> None: ...


class KeyedWriter(Protocol):
    """Receives bytes in pieces, to keep under a key the caller derives from them."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self, key: str) -> bool:
        """Make the bytes visible under ``key``; False, keeping nothing, when it is held already."""

    def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self, max_size: int | None = None) -> BlobWriter: ...

    def keyed_writer(self, max_size: int | None = None) -> KeyedWriter: ...

    def put_bytes(self, data: bytes) -> BlobInfo: ...

    def put_keyed(self, key: str, data: bytes) -> bool:
        """Store bytes under a content-derived key other than their sha256."""

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def read_range(self, sha256: str, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive) of the blob."""

    def read_bytes(self, sha256: str) -> bytes: ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored file, open for reading and seeking."""

    def delete(self, sha256: str) -> None: ...
