"""Git-compatible object ids, so clients that compare oids with local files agree with us."""

from __future__ import annotations

import hashlib


def blob_oid(data: bytes) -> str:
    """The git blob sha1 of ``data``."""
    digest = hashlib.sha1(f"blob {len(data)}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def lfs_pointer_oid(sha256: str, size: int) -> str:
    return blob_oid(lfs_pointer(sha256, size))


def tree_oid(children: list[tuple[str, str]]) -> str:
    """A content id for a directory from its (name, oid) children."""
    digest = hashlib.sha1(b"tree\0")
    for name, oid in sorted(children):
        digest.update(f"{name}\0{oid}\n".encode())
    return digest.hexdigest()


def commit_oid(*parts: str) -> str:
    digest = hashlib.sha1(b"commit\0")
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()
