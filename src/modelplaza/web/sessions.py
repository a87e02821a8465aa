"""Browser logins and CSRF protection.

A login is a random secret in an HttpOnly cookie; the database keeps only its sha256 and an
expiry, so logging out ends the session for good. Forms are protected by a double-submit token:
a random ``plaza_csrf`` cookie that every unsafe request must repeat, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx and uploads send the header)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import delete

from modelplaza.api.deps import get_plaza
from modelplaza.auth.accounts import principal_for
from modelplaza.auth.principal import ANONYMOUS, Principal
from modelplaza.db.models import Account, WebSession, utcnow
from modelplaza.errors import Forbidden

SESSION_COOKIE = "plaza_session"
CSRF_COOKIE = "plaza_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_LIFETIME = timedelta(days=30)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def page_principal(request: Request) -> Principal:
    """Who is browsing: the logged-in user (who may write, as on the API with a write token)
    or anonymous. Cached on the request: templates and views ask more than once."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    principal = ANONYMOUS
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with get_plaza(request).db.read() as session:
            row = session.get(WebSession, _hash(secret))
            if row is not None and row.expires_at > utcnow():
                principal = principal_for(session, session.get(Account, row.user_id), write=True)
    request.state.principal = principal
    return principal


def log_in(request: Request, response: Response, account: Account) -> None:
    secret = secrets.token_urlsafe(32)
    with get_plaza(request).db.write() as session:
        now = utcnow()
        session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                secret_hash=_hash(secret),
                user_id=account.id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    _set_cookie(request, response, SESSION_COOKIE, secret, int(SESSION_LIFETIME.total_seconds()))


def log_out(request: Request, response: Response) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with get_plaza(request).db.write() as session:
            session.execute(delete(WebSession).where(WebSession.secret_hash == _hash(secret)))
    response.delete_cookie(SESSION_COOKIE)


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a new one (set on the response by ``keep_csrf_cookie``) when
    it has none yet."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(24)
    return token


def keep_csrf_cookie(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        _set_cookie(request, response, CSRF_COOKIE, new, 365 * 24 * 3600)


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request that does not repeat this browser's CSRF cookie."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise Forbidden("This form has expired or did not come from this site: reload the page and try again")
