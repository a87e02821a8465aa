"""What pages with forms share: the posted form, reading a text field, sending a visitor to log
in first and back, requiring a login, and the redirect with a notice that follows a change."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from modelplaza.auth.principal import Authenticated
from modelplaza.errors import AuthenticationRequired
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import flash


async def _posted_form(request: Request) -> FormData:
    return await request.form()


# The form, read on the event loop before the view runs: views taking it stay plain ``def``
# functions, which FastAPI runs in its threadpool (see modelplaza/http/threads.py).
PostedForm = Annotated[FormData, Depends(_posted_form)]


def form_text(form: FormData, name: str) -> str:
    """A text field of a submitted form; '' when it is missing (or is a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site (``//evil.example``,
    ``/\\evil.example`` and ``https://...`` all become the home page)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 32 for char in target):  # browsers drop tabs and newlines: "/\t/evil"
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)


def login_first(request: Request) -> RedirectResponse | None:
    """A visitor who is not logged in goes to the login page first, then comes back."""
    return login_redirect(request) if page_principal(request).is_anonymous else None


def signed_in(request: Request, why: str) -> Authenticated:
    """The logged-in visitor; for a form posted without a login, a 401 page saying ``why``."""
    principal = page_principal(request)
    if not isinstance(principal, Authenticated):
        raise AuthenticationRequired(why)
    return principal


def redirect(url: str, notice: str) -> RedirectResponse:
    """After a change: to ``url`` (303, so a reload does not send the form again), with a notice."""
    response = RedirectResponse(url, status_code=303)
    flash(response, notice)
    return response
