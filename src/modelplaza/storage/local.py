"""Blobs as files on local disk, under ``<root>/<aa>/<bb>/<key>``; uploads in progress are
temporary files in ``<root>/tmp`` until they are whole and right."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from modelplaza.storage.base import (
    BlobInfo,
    BlobMismatch,
    BlobTooLarge,
    LocalFile,
    StoredObject,
    check_key,
)


class _TempFile:
    """Bytes received in pieces into a temporary file, then kept under a name or dropped."""

    def __init__(self, store: LocalBlobStore, max_size: int | None) -> None:
        self._store = store
        self._max_size = max_size
        self._size = 0
        fd, name = tempfile.mkstemp(dir=store._tmp_dir, prefix="upload-")
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
            if self._store._held(key):
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

    def _checked(self, expected_sha256: str | None, expected_size: int | None) -> BlobInfo:
        sha256 = self._hash.hexdigest()
        if expected_size is not None and expected_size != self._size:
            raise BlobMismatch(f"received {self._size} bytes, expected {expected_size}")
        if expected_sha256 is not None and expected_sha256 != sha256:
            raise BlobMismatch(f"content has sha256 {sha256}, expected {expected_sha256}")
        return BlobInfo(sha256, self._size)

    def finish(self, expected_sha256: str | None = None, expected_size: int | None = None) -> BlobInfo:
        try:
            info = self._checked(expected_sha256, expected_size)
            self._keep(info.sha256)
        finally:
            self.abort()
        return info

    def check(self, expected_sha256: str, expected_size: int) -> BlobInfo:
        try:
            return self._checked(expected_sha256, expected_size)
        finally:
            self.abort()


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._tmp_dir = self._root / "tmp"
        self._tmp_dir.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self._root / key[:2] / key[2:4] / key

    def writer(self, max_size: int | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self, max_size)

    def put_bytes(self, data: bytes) -> BlobInfo:
        sha256 = hashlib.sha256(data).hexdigest()
        if self._held(sha256):
            return BlobInfo(sha256, len(data))
        writer = self.writer()
        writer.write(data)
        return writer.finish()

    def keyed_writer(self, max_size: int | None = None) -> LocalKeyedWriter:
        return LocalKeyedWriter(self, max_size)

    def put_keyed(self, key: str, data: bytes) -> bool:
        if self._held(key):
            return False
        writer = self.keyed_writer()
        writer.write(data)
        return writer.finish(key)

    def _adopt(self, tmp_path: Path, key: str) -> None:
        if self._held(key):
            return  # Same content already stored: deduplicated.
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _held(self, key: str) -> bool:
        """Whether the object is stored; if so it is made young again, as when it was written,
        so that garbage collection does not take it for an old object that nothing records."""
        try:
            os.utime(self._path(key))
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def read_range(self, key: str, start: int, end: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        return self.deliver(key, start, end).chunks(chunk_size)

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def deliver(self, key: str, start: int = 0, end: int | None = None) -> LocalFile:
        path = self._path(key)
        last = path.stat().st_size - 1
        end = last if end is None else min(end, last)
        return LocalFile(path, start, max(end - start + 1, 0), last + 1)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        for path in self._root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            stat = _stat(path)
            if stat is not None:
                yield StoredObject(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def sweep_incomplete(self, older_than: datetime, *, dry_run: bool = False) -> int:
        cutoff = older_than.timestamp()
        stale = [p for p in self._tmp_dir.iterdir() if (stat := _stat(p)) and stat.st_mtime < cutoff]
        if not dry_run:
            for path in stale:
                path.unlink(missing_ok=True)
        return len(stale)


def _stat(path: Path) -> os.stat_result | None:
    """The file's status; None when it went away meanwhile (deleted, or an upload finished)."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
