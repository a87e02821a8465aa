"""Short-lived CAS access tokens, scoped to one repo and to reading or writing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from modelplaza.auth.signing import InvalidSignature, Signer
from modelplaza.errors import Forbidden, InvalidCredentials

TOKEN_TTL = 3600


@dataclass(frozen=True)
class CasGrant:
    repo_id: int
    write: bool


def issue(signer: Signer, repo_id: int, *, write: bool, ttl: int = TOKEN_TTL) -> tuple[str, int]:
    """A token and its expiry (unix seconds)."""
    token = signer.sign({"op": "xet", "repo": repo_id, "write": write}, ttl)
    return token, int(time.time()) + ttl


def check(signer: Signer, token: str | None, *, write: bool) -> CasGrant:
    """The grant a bearer token carries; InvalidCredentials when it is missing, forged or
    expired, Forbidden when a read token is used to write."""
    if not token:
        raise InvalidCredentials()
    try:
        payload = signer.verify(token)
    except InvalidSignature:
        raise InvalidCredentials() from None
    if payload.get("op") != "xet":
        raise InvalidCredentials()
    grant = CasGrant(repo_id=int(payload["repo"]), write=bool(payload["write"]))
    if write and not grant.write:
        raise Forbidden("This CAS token is read-only: ask for a xet-write-token to upload")
    return grant
