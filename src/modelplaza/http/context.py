"""What a request knows of the plaza: the plaza itself, the addresses clients use, the next page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from modelplaza.plaza import Plaza

# Where a repo's pages are, below the plaza's address (as on the Hub).
URL_PREFIX = {"model": "", "dataset": "datasets/"}


def get_plaza(request: Request) -> Plaza:
    return request.app.state.plaza


def public_url(request: Request) -> str:
    configured = get_plaza(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def cas_url(request: Request) -> str:
    """Where Xet clients reach the plaza's CAS service."""
    configured = get_plaza(request).settings.cas_url
    return configured.rstrip("/") if configured else f"{public_url(request)}/cas"


def next_page(request: Request, path: str | None = None, **params: object) -> dict[str, str]:
    """The ``Link`` header to the next page: on the address clients use, with this request's
    query plus ``params``, and the path (this one unless given) escaped for a header."""
    query = request.url.include_query_params(**params).query
    path = quote(path or request.url.path, safe="/%")
    return {"Link": f'<{public_url(request)}{path}?{query}>; rel="next"'}
