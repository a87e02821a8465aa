"""What every blob store promises, whichever it is: ``test_storage_contract.py`` runs these
checks against each kind the factory knows (``STORE_KINDS``), so a new store passes them
unchanged or is not done. Nothing here knows how a store lays its objects out."""

from __future__ import annotations

import hashlib
import urllib.request
from datetime import UTC, datetime, timedelta

from modelplaza.storage import BlobStore, Delivery, LocalFile, Redirect, Stream

LATER = timedelta(minutes=5)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def delivered(delivery: Delivery, start: int, end: int) -> bytes:
    """The bytes a delivery answer designates, fetched as a client would."""
    match delivery:
        case LocalFile(path, offset, length, _):
            with open(path, "rb") as file:
                file.seek(offset)
                return file.read(length)
        case Stream(chunks):
            return b"".join(chunks)
        case Redirect(url):
            request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{end}"})
            with urllib.request.urlopen(request) as answer:
                return answer.read()
    raise AssertionError(f"not a delivery answer: {delivery!r}")


def keys(store: BlobStore) -> set[str]:
    return {o.key for o in store.objects()}


def nothing_kept(store: BlobStore) -> bool:
    """No object and no unfinished upload left behind."""
    return keys(store) == set() and store.sweep_incomplete(datetime.now(UTC) + LATER, dry_run=True) == 0
