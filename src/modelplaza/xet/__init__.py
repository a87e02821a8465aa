"""The Xet protocol's formats: hashes, xorbs and shards (pure Python, no I/O).

The CAS service (``modelplaza.xet`` users) validates what clients upload with these functions and
builds its answers with them; see the "Xet Protocol Specification" v1.1.0.
"""

from modelplaza.xet.hashing import (
    chunk_hash,
    file_hash,
    hash_to_hex,
    hex_to_hash,
    verification_hash,
    xorb_hash,
)
from modelplaza.xet.shard import (
    FileTerm,
    Shard,
    ShardFile,
    ShardFormatError,
    ShardXorb,
    ShardXorbChunk,
    dedup_answer,
    parse_shard,
    serialize_shard,
    verify_file,
)
from modelplaza.xet.xorb import XorbChunk, XorbFormatError, parse_xorb, serialize_xorb

__all__ = [
    "FileTerm",
    "Shard",
    "ShardFile",
    "ShardFormatError",
    "ShardXorb",
    "ShardXorbChunk",
    "XorbChunk",
    "XorbFormatError",
    "chunk_hash",
    "dedup_answer",
    "file_hash",
    "hash_to_hex",
    "hex_to_hash",
    "parse_shard",
    "parse_xorb",
    "serialize_shard",
    "serialize_xorb",
    "verification_hash",
    "verify_file",
    "xorb_hash",
]
