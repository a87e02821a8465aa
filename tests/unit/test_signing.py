"""Signed upload links: only the plaza can make them, and they expire."""

import base64
import json
import time

import pytest

from modelplaza.auth.signing import InvalidSignature, Signer


@pytest.fixture
def signer():
    return Signer(b"secret-one")


def test_round_trip(signer):
    token = signer.sign({"oid": "ab" * 32, "size": 3, "op": "upload"}, ttl_seconds=60)
    payload = signer.verify(token)
    assert payload["oid"] == "ab" * 32 and payload["size"] == 3 and payload["op"] == "upload"
    assert time.time() < payload["exp"] <= time.time() + 61


def test_token_is_url_safe(signer):
    token = signer.sign({"oid": "?&/+=" * 20}, ttl_seconds=60)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_other_secret_is_refused(signer):
    token = signer.sign({"op": "upload"}, ttl_seconds=60)
    with pytest.raises(InvalidSignature, match="not valid"):
        Signer(b"secret-two").verify(token)


def test_tampered_payload_is_refused(signer):
    token = signer.sign({"oid": "a" * 64, "size": 3, "op": "upload"}, ttl_seconds=60)
    body, mac = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged["size"] = 10**12
    forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature, match="not valid"):
        signer.verify(f"{forged_body}.{mac}")


def test_tampered_mac_is_refused(signer):
    token = signer.sign({"op": "upload"}, ttl_seconds=60)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidSignature):
        signer.verify(flipped)


@pytest.mark.parametrize(
    "garbage", ["", ".", "abc", "abc.", ".abc", "not-base64!.x", "a.b.c", "é.é", "abc.dé", "\ud800.x"]
)
def test_garbage_is_refused(signer, garbage):
    with pytest.raises(InvalidSignature):
        signer.verify(garbage)


def test_well_signed_garbage_body_is_refused(signer):
    body = "not-json"
    token = f"{body}.{signer._mac(body)}"
    with pytest.raises(InvalidSignature, match="not valid"):
        signer.verify(token)


def test_expired_link_is_refused(signer):
    token = signer.sign({"op": "upload"}, ttl_seconds=-1)
    with pytest.raises(InvalidSignature, match="expired"):
        signer.verify(token)
