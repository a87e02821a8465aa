"""Who is calling: a bearer token (an API token or a job's token), or a browser's session cookie."""

from __future__ import annotations

from fastapi import Request

from modelplaza.auth import job_tokens
from modelplaza.auth.accounts import authenticate_token, record_token_use, token_use_due
from modelplaza.auth.permissions import browser_on_api
from modelplaza.auth.principal import ANONYMOUS, Authenticated, Principal
from modelplaza.auth.sessions import SESSION_COOKIE, session_principal
from modelplaza.http.context import get_plaza


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def cookie_principal(request: Request) -> Authenticated | None:
    """The user logged in with this browser's session cookie, if any."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    with get_plaza(request).db.read() as session:
        return session_principal(session, secret)


def get_principal(request: Request) -> Principal:
    """The caller from the bearer token; InvalidCredentials for a bad one. Without a token, a
    read (GET/HEAD) may come from a logged-in browser, with read rights only."""
    token = bearer_token(request)
    if token is None:
        browser = cookie_principal(request) if request.method in ("GET", "HEAD") else None
        return browser_on_api(browser) if browser else ANONYMOUS
    plaza = get_plaza(request)
    db = plaza.db
    with db.read() as session:
        if job_tokens.is_job_token(token):
            return job_tokens.authenticate(session, plaza.signer, token)
        principal = authenticate_token(session, token)
    if token_use_due(token):
        with db.write() as session:
            record_token_use(session, token)
    return principal
