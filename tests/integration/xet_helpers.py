"""What the Xet tests share: CAS tokens, and xorbs built with their names."""

from __future__ import annotations

import httpx

from modelplaza.xet.hashing import chunk_hash, hash_to_hex, xorb_hash
from modelplaza.xet.xorb import serialize_xorb


def cas_token(server, repo_id: str, *, write: bool = True) -> dict:
    """The ``{accessToken, exp, casUrl}`` answer for alice on ``repo_id``."""
    kind = "write" if write else "read"
    answer = httpx.get(
        f"{server.url}/api/models/{repo_id}/xet-{kind}-token/main",
        headers={"Authorization": f"Bearer {server.tokens['alice']}"},
    )
    answer.raise_for_status()
    return answer.json()


def named_xorb(chunks: list[bytes]) -> tuple[str, bytes]:
    """A serialized xorb and the hash string it is uploaded under."""
    return hash_to_hex(xorb_hash([(chunk_hash(c), len(c)) for c in chunks])), serialize_xorb(chunks)
