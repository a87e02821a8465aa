"""What a request knows of the plaza: the plaza itself, the addresses clients use, the next page."""

from __future__ import annotations

import ipaddress
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


def client_address(request: Request) -> str:
    """The caller's address: the socket's peer, or behind ``proxy_hops`` proxies the address the
    farthest of them wrote into X-Forwarded-For (what the entries before it say came from the
    caller, who can write anything there). An entry that is no address counts as the peer."""
    peer = request.client.host if request.client else "unknown"
    hops = get_plaza(request).settings.proxy_hops
    if not hops:
        return peer
    entries = [e.strip() for value in request.headers.getlist("x-forwarded-for") for e in value.split(",")]
    if len(entries) < hops:
        return peer
    try:
        return str(ipaddress.ip_address(entries[-hops]))
    except ValueError:
        return peer


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
