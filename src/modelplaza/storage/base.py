"""The blob store interface: bytes kept under a key (a sha256, or a key the caller derived
from the content, such as a Xet xorb hash), shared by every repo.

Every caller reaches stored bytes through this interface only; a store is chosen by settings
(see ``modelplaza.storage.factory``) and proven by the shared contract tests. Keys are 64
lowercase hex digits; any other key is refused with ValueError. A missing key raises
FileNotFoundError. Byte ranges are ``start..end`` with ``end`` inclusive; an end past the last
byte stops at the last byte."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

KEY_LENGTH = 64


def check_key(key: str) -> str:
    if len(key) != KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"not a sha256: {key!r}")
    return key


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int


@dataclass(frozen=True)
class StoredObject:
    """One object a store holds, as a listing gives it (for garbage collection)."""

    key: str
    size: int
    modified: datetime  # aware, UTC


class BlobMismatch(ValueError):
    """Uploaded bytes do not match the sha256 or size they were declared with."""


class BlobTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Redirect:
    """Send the client to ``url``, which serves the same bytes (a presigned object URL)."""

    url: str


@dataclass(frozen=True)
class LocalFile:
    """The bytes are ``length`` bytes from ``offset`` of a file on this host: send them with
    zero copy. ``path`` is the whole stored object, of ``size`` bytes."""

    path: Path
    offset: int
    length: int
    size: int

    @property
    def whole(self) -> bool:
        return self.offset == 0 and self.length == self.size

    def chunks(self, chunk_size: int = 4 << 20) -> Iterator[bytes]:
        """The bytes, read in pieces as the iterator is consumed (the pieces of the streaming
        path, where the server sends no file itself: as large as ``Contents`` reads)."""
        with open(self.path, "rb") as file:
            file.seek(self.offset)
            remaining = self.length
            while remaining > 0:
                chunk = file.read(min(chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


@dataclass(frozen=True)
class Stream:
    """The bytes as pieces to pass on, read as ``chunks`` is consumed."""

    chunks: Iterator[bytes]


# How a byte range reaches a client: where to redirect, a local file, or a stream.
Delivery = Redirect | LocalFile | Stream


class BlobWriter(Protocol):
    """Receives a blob's bytes in pieces; nothing is visible until ``finish`` succeeds."""

    def write(self, chunk: bytes) -> None:
        """Take more bytes; BlobTooLarge, keeping nothing, past the writer's ``max_size``."""

    def finish(self, expected_sha256: str | None = None, expected_size: int | None = None) -> BlobInfo:
        """Make the blob visible under its sha256, or raise BlobMismatch and keep nothing."""

    def check(self, expected_sha256: str, expected_size: int) -> BlobInfo:
        """Check the bytes as ``finish`` does (BlobMismatch), then drop them: for content held
        already, whose sender only proves they have it."""

    def abort(self) -> None:
        """Drop what was written; harmless after ``finish`` or a second time."""


class KeyedWriter(Protocol):
    """Receives bytes in pieces, to keep under a key the caller derives from them."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self, key: str) -> bool:
        """Make the bytes visible under ``key``; False, keeping nothing, when it is held already."""

    def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self, max_size: int | None = None) -> BlobWriter:
        """Put a stream: its bytes go in with ``write``, ``finish`` names them by their sha256."""

    def keyed_writer(self, max_size: int | None = None) -> KeyedWriter: ...

    def put_bytes(self, data: bytes) -> BlobInfo: ...

    def put_keyed(self, key: str, data: bytes) -> bool:
        """Store bytes under a content-derived key other than their sha256; False when held."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def read_range(self, key: str, start: int, end: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Bytes ``start..end`` of the object, in pieces of at most ``chunk_size``."""

    def read_bytes(self, key: str) -> bytes: ...

    def open(self, key: str) -> BinaryIO:
        """The object, open for reading and seeking; the caller closes it."""

    def deliver(self, key: str, start: int = 0, end: int | None = None) -> Delivery:
        """How to send bytes ``start..end`` (to the last byte by default) to a client."""

    def delete(self, key: str) -> None:
        """Remove the object; harmless when it is gone already."""

    def objects(self) -> Iterator[StoredObject]:
        """Every object held, in no particular order."""

    def sweep_incomplete(self, older_than: datetime, *, dry_run: bool = False) -> int:
        """Drop uploads begun before ``older_than`` and never finished (left by a crash); how
        many there were. ``dry_run`` only counts them."""
