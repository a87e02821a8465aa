"""Short-lived signed capabilities (upload links), HMAC-SHA256 over a JSON payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


class InvalidSignature(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def sign(self, payload: dict, ttl_seconds: int) -> str:
        body = _b64(json.dumps({**payload, "exp": int(time.time()) + ttl_seconds}).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> dict:
        # What this signer issues is ASCII; anything else (a header or link holding other
        # characters) is forged, and could not even be compared in constant time.
        if not token.isascii():
            raise InvalidSignature("the link is not valid")
        body, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidSignature("the link is not valid")
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            raise InvalidSignature("the link is not valid") from None
        if payload.get("exp", 0) < time.time():
            raise InvalidSignature("the link has expired")
        return payload
