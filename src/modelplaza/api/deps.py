"""Request-scoped helpers shared by the routers: the plaza, the caller, the public address."""

from __future__ import annotations

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
