"""Browser logins (cookies over auth/sessions.py) and CSRF protection.

Forms are protected by a double-submit token:
a random ``plaza_csrf`` cookie that every unsafe request must repeat, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx and uploads send the header)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from starlette.datastructures import UploadFile

from modelplaza.auth.principal import ANONYMOUS, Principal
from modelplaza.auth.sessions import SESSION_COOKIE, SESSION_LIFETIME, end_session, start_session
from modelplaza.db.models import Account
from modelplaza.errors import AuthenticationRequired, Forbidden
from modelplaza.http.context import get_plaza
from modelplaza.http.principals import cookie_principal
from modelplaza.http.threads import in_thread

CSRF_COOKIE = "plaza_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


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
    if not hasattr(request.state, "principal"):
        request.state.principal = cookie_principal(request) or ANONYMOUS
    return request.state.principal


def log_in(request: Request, response: Response, account: Account) -> None:
    with get_plaza(request).db.write() as session:
        secret = start_session(session, account)
    _set_cookie(request, response, SESSION_COOKIE, secret, int(SESSION_LIFETIME.total_seconds()))


def log_out(request: Request, response: Response) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with get_plaza(request).db.write() as session:
            end_session(session, secret)
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
    """Refuse an unsafe request that does not repeat this browser's CSRF cookie. A token sent in
    the body is looked for only when the browser has a cookie to compare it with, and in files
    (multipart) only from a logged-in visitor: others are refused before their files are read."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent: str | UploadFile | None = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if expected and sent is None and content_type.startswith(_FORMS):
        if content_type.startswith("multipart/") and (await in_thread(page_principal, request)).is_anonymous:
            raise AuthenticationRequired("Log in to upload files.")
        sent = (await request.form()).get(CSRF_FIELD)
    # Compared as bytes: a cookie or field with non-ASCII characters is simply not the token.
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Forbidden("This form has expired or did not come from this site: reload the page and try again")
