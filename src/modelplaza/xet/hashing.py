"""The hashes of the Xet protocol (specification v1.1.0, "Hashing" and "CAS API").

Every hash is 32 raw bytes. Chunk hashes are keyed blake3 of the chunk's bytes; xorb and file
hashes are the root of a Merkle tree over (chunk hash, chunk length) pairs; a term's verification
hash binds a shard's term to the chunk hashes it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import blake3

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)

DATA_KEY = bytes(
    [102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28]
    + [157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41]
)
INTERNAL_NODE_KEY = bytes(
    [1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230]
    + [93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63]
)
VERIFICATION_KEY = bytes(
    [127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243]
    + [164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195]
)

# The Merkle tree's nodes have on average this many children: a node closes after a child whose
# hash is divisible by it, never with fewer than 3 or more than 2 * 4 + 1 children (a level's
# last node excepted), so the tree's shape depends on the content only.
_MEAN_BRANCHING = 4
_MAX_CHILDREN = 2 * _MEAN_BRANCHING + 1
# Chunks whose hash is divisible by this (and the first chunk of every file) may be looked up
# with the global deduplication query.
GLOBAL_DEDUP_MODULUS = 1024

_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _keyed(key: bytes, data: bytes | memoryview) -> bytes:
    return blake3.blake3(data, key=key).digest()


def _check(h: bytes) -> bytes:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ValueError(f"a Xet hash is {HASH_SIZE} bytes, got {h!r:.80}")
    return bytes(h)


def chunk_hash(data: bytes | memoryview) -> bytes:
    return _keyed(DATA_KEY, data)


def hash_to_hex(h: bytes) -> str:
    """The string form of CAS paths and JSON: each 8-byte group read as a little-endian integer."""
    h = _check(h)
    return "".join(h[i : i + 8][::-1].hex() for i in range(0, HASH_SIZE, 8))


def hex_to_hash(s: str) -> bytes:
    if not isinstance(s, str) or not _HEX.fullmatch(s):
        raise ValueError(f"not a Xet hash string (64 hex characters): {s!r:.80}")
    raw = bytes.fromhex(s)
    return b"".join(raw[i : i + 8][::-1] for i in range(0, HASH_SIZE, 8))


def _low_u64(h: bytes) -> int:
    """The hash's last 8 bytes as a little-endian integer: what the protocol takes a hash modulo."""
    return int.from_bytes(h[24:32], "little")


def is_global_dedup_eligible(h: bytes) -> bool:
    return _low_u64(h) % GLOBAL_DEDUP_MODULUS == 0


def _merge(nodes: Sequence[tuple[bytes, int]]) -> tuple[bytes, int]:
    text = "".join(f"{hash_to_hex(h)} : {size}\n" for h, size in nodes)
    return _keyed(INTERNAL_NODE_KEY, text.encode("ascii")), sum(size for _, size in nodes)


def _node_end(level: Sequence[tuple[bytes, int]], start: int) -> int:
    """Where the node that begins at `start` ends (exclusive)."""
    if len(level) - start <= 2:
        return len(level)
    limit = min(start + _MAX_CHILDREN, len(level))
    for i in range(start + 2, limit):
        if _low_u64(level[i][0]) % _MEAN_BRANCHING == 0:
            return i + 1
    return limit


def merkle_root(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    if not chunks:
        return ZERO_HASH
    level = [(_check(h), size) for h, size in chunks]
    while len(level) > 1:
        parents = []
        start = 0
        while start < len(level):
            end = _node_end(level, start)
            parents.append(_merge(level[start:end]))
            start = end
        level = parents
    return level[0][0]


def xorb_hash(chunks: list[tuple[bytes, int]]) -> bytes:
    """The hash of a xorb made of these (chunk hash, chunk length) pairs, in order."""
    return merkle_root(chunks)


def file_hash(chunks: list[tuple[bytes, int]]) -> bytes:
    """The file id the client uses; an empty file's is all zeros."""
    if not chunks:
        return ZERO_HASH
    return _keyed(ZERO_HASH, merkle_root(chunks))


def verification_hash(chunk_hashes: Iterable[bytes]) -> bytes:
    """The hash a shard's FileVerificationEntry carries for a term covering these chunks."""
    return _keyed(VERIFICATION_KEY, b"".join(_check(h) for h in chunk_hashes))


def keyed_hash(h: bytes, key: bytes) -> bytes:
    """A chunk hash as a global deduplication answer shows it when its shard has a non-zero key."""
    return _keyed(_check(key), _check(h))
