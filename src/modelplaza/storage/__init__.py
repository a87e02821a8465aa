from modelplaza.storage.base import (
    BlobInfo,
    BlobMismatch,
    BlobStore,
    BlobTooLarge,
    BlobWriter,
    Delivery,
    KeyedWriter,
    LocalFile,
    Redirect,
    StoredObject,
    Stream,
)

__all__ = [
    "BlobInfo",
    "BlobMismatch",
    "BlobStore",
    "BlobTooLarge",
    "BlobWriter",
    "Delivery",
    "KeyedWriter",
    "LocalFile",
    "Redirect",
    "StoredObject",
    "Stream",
]
