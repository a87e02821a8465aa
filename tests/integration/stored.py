"""The running plaza's blob stores, read through the storage interface as the plaza reads them:
no test assumes where or how a store keeps its objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelplaza.config import Settings
from modelplaza.storage import BlobStore
from modelplaza.storage.factory import open_store


def store(server, namespace: str) -> BlobStore:
    """The server's store of ``namespace``: ``"blobs"`` (whole files) or ``"xorbs"`` (Xet)."""
    return open_store(Settings(data_dir=server.data_dir), namespace)


def stored_keys(server, namespace: str) -> set[str]:
    return {o.key for o in store(server, namespace).objects()}


def stored_bytes(server, namespace: str) -> int:
    return sum(o.size for o in store(server, namespace).objects())


def unfinished_uploads(server, namespace: str) -> int:
    """Uploads begun and neither finished nor dropped yet."""
    return store(server, namespace).sweep_incomplete(datetime.now(UTC) + timedelta(days=1), dry_run=True)
