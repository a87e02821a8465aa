"""Rendering pages: one Jinja2 environment, the context every page gets, and the filters the
templates share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from modelplaza import __version__
from modelplaza.http.context import get_plaza, public_url
from modelplaza.web.sessions import CSRF_FIELD, csrf_token, keep_csrf_cookie, page_principal

HERE = Path(__file__).parent
FLASH_COOKIE = "plaza_flash"


def _page_context(request: Request) -> dict:
    return {
        "user": page_principal(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "plaza_url": public_url(request),
        "settings": get_plaza(request).settings,
        "version": __version__,
        "flash": unquote(request.cookies.get(FLASH_COOKIE, "")),
    }


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def ago(when: datetime | None) -> str:
    """'3 days ago'; exact times go in a title attribute next to it."""
    if when is None:
        return ""
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} ago" if minutes else "just now"


def compact(number: int) -> str:
    """1234 -> '1.2k', as counts are shown on cards."""
    for divisor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if number >= divisor:
            return f"{number / divisor:.1f}".rstrip("0").rstrip(".") + suffix
    return str(number)


def url_segment(value: str) -> str:
    """A revision or name as one URL segment (a branch ``a/b`` becomes ``a%2Fb``)."""
    return quote(value, safe="")


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_page_context])
templates.env.filters.update(filesize=filesize, ago=ago, compact=compact, segment=url_segment)
templates.env.filters["url_path"] = lambda value: quote(value, safe="/")


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    keep_csrf_cookie(request, response)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    return response


def flash(response, message: str) -> None:
    """A one-time notice shown on the next page (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, quote(message), max_age=60, httponly=True, samesite="lax")
