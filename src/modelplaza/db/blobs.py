"""Registering content by sha256 once it is held (a whole blob, or a Xet file's chunks), so
that commits may name it and garbage collection knows of it; and recording which repo its
bytes were sent to, so that the repo's writers may commit it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.db.models import Blob, ReceivedContent, utcnow


def register_blob(session: Session, sha256: str, size: int) -> None:
    if session.get(Blob, sha256) is not None:
        return
    try:
        with session.begin_nested():
            session.add(Blob(sha256=sha256, size=size))
    except IntegrityError:
        pass  # A concurrent upload of the same content registered it first.


def record_received(session: Session, repo_id: int, sha256: str) -> None:
    """The content's bytes were sent to the repo (and checked): its writers may now commit it.
    Sent again, the record is young again, so garbage collection keeps the content longer."""
    existing = session.get(ReceivedContent, (repo_id, sha256))
    if existing is not None:
        existing.received_at = utcnow()
        return
    try:
        with session.begin_nested():
            session.add(ReceivedContent(repo_id=repo_id, sha256=sha256))
    except IntegrityError:
        pass  # The same content arrived for this repo concurrently.
