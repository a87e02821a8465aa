"""Request-scoped helpers shared by the routers: the plaza, the caller, the public address."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from modelplaza.auth.accounts import authenticate_token
from modelplaza.auth.principal import ANONYMOUS, Principal
from modelplaza.plaza import Plaza


def get_plaza(request: Request) -> Plaza:
    return request.app.state.plaza


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def get_principal(request: Request) -> Principal:
    """The caller from the bearer token; anonymous without one; InvalidCredentials for a bad one."""
    token = bearer_token(request)
    if token is None:
        return ANONYMOUS
    with get_plaza(request).db.read() as session:
        return authenticate_token(session, token)


def public_url(request: Request) -> str:
    configured = get_plaza(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def next_page(request: Request, path: str | None = None, **params: object) -> dict[str, str]:
    """The ``Link`` header to the next page: on the address clients use, with this request's
    query plus ``params``, and the path (this one unless given) escaped for a header."""
    query = request.url.include_query_params(**params).query
    path = quote(path or request.url.path, safe="/%")
    return {"Link": f'<{public_url(request)}{path}?{query}>; rel="next"'}
