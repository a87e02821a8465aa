"""Blobs as files on local disk, under ``<root>/<aa>/<bb>/<sha256>``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from modelplaza.storage.base import BlobInfo, BlobMismatch, BlobTooLarge


class _TempFile:
    """Bytes received in pieces into a temporary file, then kept under a name or dropped."""

    def __init__(self, store: LocalBlobStore, max_size: int | None) -> None:
        self._store = store
        self._max_size = max_size
        self._size = 0
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._tmp_path = Path(name)

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._max_size is not None and self._size > self._max_size:
            self.abort()
            raise BlobTooLarge(f"file is larger than the limit of {self._max_size} bytes")
        self._file.write(chunk)

    def _keep(self, key: str) -> None:
        os.fsync(self._file.fileno())
        self._file.close()
        self._store._adopt(self._tmp_path, key)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp_path.unlink(missing_ok=True)


class LocalKeyedWriter(_TempFile):
    def finish(self, key: str) -> bool:
        try:
            if self._store.exists(key):
                return False
            self._keep(key)
            return True
        finally:
            self.abort()


class LocalBlobWriter(_TempFile):
    def __init__(self, store: LocalBlobStore, max_size: int | None) -> None:
        super().__init__(store, max_size)
        self._hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        super().write(chunk)
        self._hash.update(chunk)

    def finish(self, expected_sha256: str | None = None, expected_size: int | None = None) -> BlobInfo:
        sha256 = self._hash.hexdigest()
        try:
            if expected_size is not None and expected_size != self._size:
                raise BlobMismatch(f"received {self._size} bytes, expected {expected_size}")
            if expected_sha256 is not None and expected_sha256 != sha256:
                raise BlobMismatch(f"content has sha256 {sha256}, expected {expected_sha256}")
            self._keep(sha256)
        finally:
            self.abort()
        return BlobInfo(sha256, self._size)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def writer(self, max_size: int | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self, max_size)

    def put_bytes(self, data: bytes) -> BlobInfo:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return BlobInfo(sha256, len(data))
        writer = self.writer()
        writer.write(data)
        return writer.finish()

    def keyed_writer(self, max_size: int | None = None) -> LocalKeyedWriter:
        return LocalKeyedWriter(self, max_size)

    def put_keyed(self, key: str, data: bytes) -> bool:
        """Store ``data`` under a key the caller derived from it (a Xet xorb hash, say);
        False when that key is held already."""
        if self.exists(key):
            return False
        writer = self.keyed_writer()
        writer.write(data)
        return writer.finish(key)

    def _adopt(self, tmp_path: Path, sha256: str) -> None:
        target = self.path(sha256)
        if target.exists():
            return  # Same content already stored: deduplicated.
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def read_range(self, sha256: str, start: int, end: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        with open(self.path(sha256), "rb") as file:
            file.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = file.read(min(chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    def read_bytes(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
