"""Registering content by sha256 once it is held (a whole blob, or a Xet file's chunks), so
that commits may name it and garbage collection knows of it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.db.models import Blob


def register_blob(session: Session, sha256: str, size: int) -> None:
    if session.get(Blob, sha256) is not None:
        return
    try:
        with session.begin_nested():
            session.add(Blob(sha256=sha256, size=size))
    except IntegrityError:
        pass  # A concurrent upload of the same content registered it first.
