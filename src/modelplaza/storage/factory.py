"""The blob stores a plaza uses, chosen by the ``blob_store`` setting (``PLAZA_BLOB_STORE``)."""

from __future__ import annotations

from collections.abc import Callable

from modelplaza.config import Settings
from modelplaza.errors import PlazaError
from modelplaza.storage.base import BlobStore
from modelplaza.storage.local import LocalBlobStore

# Each store kind builds one store for a namespace ("blobs", "xorbs") from the settings.
STORE_KINDS: dict[str, Callable[[Settings, str], BlobStore]] = {
    "local": lambda settings, namespace: LocalBlobStore(settings.data_dir / namespace),
}


class UnknownBlobStore(PlazaError):
    pass


def open_store(settings: Settings, namespace: str) -> BlobStore:
    """The store holding ``namespace``'s objects, of the kind the settings name."""
    try:
        make = STORE_KINDS[settings.blob_store]
    except KeyError:
        known = ", ".join(sorted(STORE_KINDS))
        raise UnknownBlobStore(
            f"PLAZA_BLOB_STORE is {settings.blob_store!r}; the blob stores are: {known}"
        ) from None
    return make(settings, namespace)
