from modelplaza.storage.base import BlobInfo, BlobMismatch, BlobStore, BlobTooLarge, BlobWriter, KeyedWriter
from modelplaza.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobMismatch",
    "BlobStore",
    "BlobTooLarge",
    "BlobWriter",
    "KeyedWriter",
    "LocalBlobStore",
]
