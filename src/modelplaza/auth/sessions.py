"""Browser logins. A login is a random secret the browser keeps in the ``plaza_session`` cookie;
the database keeps only its sha256 and an expiry, so a leaked database cannot be replayed as
logins, and logging out ends the session for good."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from modelplaza.auth.accounts import principal_for
from modelplaza.auth.principal import Authenticated
from modelplaza.db.models import Account, WebSession, utcnow
from modelplaza.db.session import rows_matched

SESSION_COOKIE = "plaza_session"
SESSION_LIFETIME = timedelta(days=30)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, account: Account) -> str:
    """A new login for ``account``; the secret to hand to the browser. Expired logins go."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.add(
        WebSession(
            secret_hash=_hash(secret), user_id=account.id, created_at=now, expires_at=now + SESSION_LIFETIME
        )
    )
    return secret


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.secret_hash == _hash(secret)))


def session_principal(session: Session, secret: str) -> Authenticated | None:
    """Who a live login belongs to (with write rights, as a write token has); None otherwise."""
    row = session.get(WebSession, _hash(secret))
    if row is None or row.expires_at <= utcnow():
        return None
    return principal_for(session, session.get_one(Account, row.user_id), write=True)


def end_sessions(session: Session, account: Account, *, keep: str | None = None) -> int:
    """End every login of ``account`` but the one whose secret is ``keep``; how many ended."""
    statement = delete(WebSession).where(WebSession.user_id == account.id)
    if keep is not None:
        statement = statement.where(WebSession.secret_hash != _hash(keep))
    return rows_matched(session, statement)
