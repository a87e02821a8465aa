"""A committed file as something pyarrow can read: the blob's own path when it is whole on
disk, otherwise a seekable file that fetches byte ranges from ``Contents`` as they are read
(Xet files are rebuilt from their chunks range by range, so nothing is copied whole)."""

from __future__ import annotations

import io
import threading

import pyarrow as pa
from sqlalchemy.orm import Session

from modelplaza.formats.tables import SeekableFile
from modelplaza.hub.content import Contents
from modelplaza.storage import LocalFile

# Bytes fetched per range request; pyarrow's reads are small and many.
READ_AHEAD = 1 << 20


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a file held by ``Contents``. It looks chunks up with
    ``session``, so it must be used while that session is open."""

    def __init__(self, contents: Contents, session: Session, sha256: str, size: int) -> None:
        super().__init__()
        self._contents, self._session, self._sha256 = contents, session, sha256
        self._size = size
        self._position = 0
        self._lock = threading.Lock()  # pyarrow may read from its own threads
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def readinto(self, buffer) -> int:
        with self._lock:
            end = min(self._position + len(buffer), self._size)
            if end <= self._position:
                return 0
            chunks = self._contents.read_range(self._session, self._sha256, self._position, end - 1)
            view = memoryview(buffer)
            filled = 0
            for chunk in chunks:
                view[filled : filled + len(chunk)] = chunk
                filled += len(chunk)
            self._position += filled
            self.bytes_read += filled
            return filled


def open_file(contents: Contents, session: Session, sha256: str) -> SeekableFile:
    """The file, open for reading and seeking; the caller closes it. FileNotFoundError when the
    plaza holds no bytes for it."""
    first = contents.open(session, sha256, 0, 0)
    if isinstance(first.delivery, LocalFile):
        return pa.OSFile(str(first.delivery.path))
    return io.BufferedReader(RangeFile(contents, session, sha256, first.size), READ_AHEAD)
