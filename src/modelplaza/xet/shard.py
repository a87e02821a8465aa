"""Shards: file reconstructions and xorb listings (Xet specification v1.1.0, "Shard Format").

A shard is a 48-byte header, a file info section, a CAS info section (each a run of 48-byte
records closed by a bookend record) and an optional 200-byte footer. Clients upload shards
without the footer; the global deduplication answer carries one, for its HMAC key and expiry.
All integers are little-endian.

What the specification leaves "reserved" in the footer, the reference client reads when it
registers a deduplication answer: three lookup tables written between the CAS info section and
the footer (file, xorb and chunk hashes truncated to their first 8 bytes as a little-endian
integer, each sorted on that key and pointing at 48-byte record indexes in its section), their
offsets and lengths in footer bytes 24-72, and byte totals in footer bytes 168-192. Without them
hf_xet 1.8 aborts, so ``serialize_shard`` writes them; ``parse_shard`` only checks their bounds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from modelplaza.xet.hashing import (
    ZERO_HASH,
    file_hash,
    hash_to_hex,
    hex_to_hash,
    keyed_hash,
    verification_hash,
)

HEADER_TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
HEADER_VERSION = 2
FOOTER_VERSION = 1
HEADER_SIZE = 48
RECORD_SIZE = 48
FOOTER_SIZE = 200
FLAG_WITH_VERIFICATION = 1 << 31
FLAG_WITH_METADATA_EXT = 1 << 30
BOOKEND = b"\xff" * 32 + bytes(16)

_HEADER = struct.Struct("<32sQQ")
_FILE_HEADER = struct.Struct("<32sII8x")
_FILE_ENTRY = struct.Struct("<32sIIII")
_HASH_RECORD = struct.Struct("<32s16x")  # verification entry, metadata extension
_CAS_HEADER = struct.Struct("<32sIIII")
_CAS_ENTRY = struct.Struct("<32sIII4x")
# version, file info offset, CAS info offset, (offset, count) of the file, xorb and chunk lookup
# tables, HMAC key, creation time, key expiry, stored bytes on disk, materialized bytes, stored
# bytes, footer offset.
_FOOTER = struct.Struct("<QQQQQQQQQ32sQQ48xQQQQ")
_LOOKUP = struct.Struct("<QI")  # truncated hash, record index
_CHUNK_LOOKUP = struct.Struct("<QII")  # truncated chunk hash, xorb record index, chunk index


class ShardFormatError(ValueError):
    """The bytes are not a well-formed shard."""


@dataclass(frozen=True)
class FileTerm:
    xorb_hash: bytes
    chunk_start: int
    chunk_end: int  # exclusive
    unpacked_size: int
    verification_hash: bytes | None = None


@dataclass(frozen=True)
class ShardFile:
    file_hash: bytes
    terms: tuple[FileTerm, ...]
    sha256: str | None  # hex, as hashlib shows it; from the metadata extension


@dataclass(frozen=True)
class ShardXorbChunk:
    chunk_hash: bytes
    byte_start: int  # offset of the chunk in the xorb's uncompressed bytes
    unpacked_size: int
    flags: int = 0


@dataclass(frozen=True)
class ShardXorb:
    xorb_hash: bytes
    chunks: tuple[ShardXorbChunk, ...]
    serialized_size: int  # clients upload 0 here; the CAS knows the real size

    @property
    def unpacked_size(self) -> int:
        return sum(c.unpacked_size for c in self.chunks)


@dataclass(frozen=True)
class Shard:
    files: tuple[ShardFile, ...]
    xorbs: tuple[ShardXorb, ...]
    # Footer fields. A non-zero key means chunk hashes are shown keyed with it (hashing.keyed_hash),
    # as in global deduplication answers; clients stop deduplicating against it after the expiry.
    hmac_key: bytes = ZERO_HASH
    key_expiry: int = 0
    created: int = 0


class _Reader:
    def __init__(self, body: bytes, end: int) -> None:
        self.body = body
        self.pos = HEADER_SIZE
        self.end = end

    def take(self, record: struct.Struct, what: str) -> tuple:
        if self.pos + record.size > self.end:
            raise ShardFormatError(f"truncated shard: {what} at byte {self.pos} runs past byte {self.end}")
        values = record.unpack_from(self.body, self.pos)
        self.pos += record.size
        return values

    def room_for(self, count: int, what: str) -> None:
        if self.pos + count * RECORD_SIZE > self.end:
            raise ShardFormatError(
                f"truncated shard: {count} {what} at byte {self.pos} run past byte {self.end}"
            )

    def at_bookend(self) -> bool:
        return self.body[self.pos : self.pos + 32] == BOOKEND[:32]


def _read_file(reader: _Reader, file_id: bytes, flags: int, count: int) -> ShardFile:
    reader.room_for(count, "file terms")
    entries = [reader.take(_FILE_ENTRY, "file term") for _ in range(count)]
    checks: list[bytes | None] = [None] * count
    if flags & FLAG_WITH_VERIFICATION:
        reader.room_for(count, "verification entries")
        checks = [reader.take(_HASH_RECORD, "verification entry")[0] for _ in range(count)]
    sha256 = None
    if flags & FLAG_WITH_METADATA_EXT:
        sha256 = hash_to_hex(reader.take(_HASH_RECORD, "metadata extension")[0])
    if not count and file_id != ZERO_HASH:
        raise ShardFormatError(f"file {hash_to_hex(file_id)} has no terms, only an empty file may")
    terms = []
    for (xorb, _flags, size, start, end), check in zip(entries, checks, strict=True):
        if not start < end:
            raise ShardFormatError(
                f"file {hash_to_hex(file_id)} has a term with chunk range [{start}, {end})"
            )
        terms.append(FileTerm(xorb, start, end, size, check))
    return ShardFile(file_id, tuple(terms), sha256)


def _read_files(reader: _Reader) -> tuple[ShardFile, ...]:
    files = []
    while not reader.at_bookend():
        file_id, flags, count = reader.take(_FILE_HEADER, "file header")
        files.append(_read_file(reader, file_id, flags, count))
    reader.take(_FILE_HEADER, "file info bookend")
    verified = {f.terms[0].verification_hash is not None for f in files if f.terms}
    if len(verified) > 1:
        raise ShardFormatError("only some files of the shard carry verification entries")
    return tuple(files)


def _read_xorb(reader: _Reader, xorb: bytes, count: int, unpacked: int, stored: int) -> ShardXorb:
    if not count:
        raise ShardFormatError(f"xorb {hash_to_hex(xorb)} lists no chunks")
    reader.room_for(count, "xorb chunk entries")
    chunks: list[ShardXorbChunk] = []
    offset = 0
    for _ in range(count):
        chunk, start, size, flags = reader.take(_CAS_ENTRY, "xorb chunk entry")
        if start != offset:
            raise ShardFormatError(
                f"xorb {hash_to_hex(xorb)}: chunk {len(chunks)} starts at {start}, not {offset}"
            )
        chunks.append(ShardXorbChunk(chunk, start, size, flags))
        offset += size
    if offset != unpacked:
        raise ShardFormatError(
            f"xorb {hash_to_hex(xorb)} declares {unpacked} bytes, its chunks hold {offset}"
        )
    return ShardXorb(xorb, tuple(chunks), stored)


def _read_xorbs(reader: _Reader) -> tuple[ShardXorb, ...]:
    xorbs = []
    while not reader.at_bookend():
        xorb, _flags, count, unpacked, stored = reader.take(_CAS_HEADER, "xorb header")
        xorbs.append(_read_xorb(reader, xorb, count, unpacked, stored))
    reader.take(_CAS_HEADER, "CAS info bookend")
    return tuple(xorbs)


def _read_footer(body: bytes, cas_start: int, cas_end: int) -> tuple[bytes, int, int]:
    (version, file_offset, cas_offset, *lookups, key, created, expiry, _, _, _, footer_offset) = (
        _FOOTER.unpack_from(body, len(body) - FOOTER_SIZE)
    )
    if version != FOOTER_VERSION:
        raise ShardFormatError(f"bad footer: version {version}, expected {FOOTER_VERSION}")
    expected = (HEADER_SIZE, cas_start, len(body) - FOOTER_SIZE)
    # Lookup tables, if any, sit between the sections and the footer.
    if (file_offset, cas_offset, footer_offset) != expected or cas_end > footer_offset:
        raise ShardFormatError(
            f"bad footer: section offsets {(file_offset, cas_offset, footer_offset)} do not match "
            f"the shard's layout {expected}"
        )
    for i, size in enumerate((_LOOKUP.size, _LOOKUP.size, _CHUNK_LOOKUP.size)):
        offset, count = lookups[2 * i], lookups[2 * i + 1]
        if count and not cas_end <= offset <= offset + count * size <= footer_offset:
            raise ShardFormatError(
                f"bad footer: a lookup table of {count} entries at byte {offset} is out of bounds"
            )
    return key, expiry, created


def parse_shard(body: bytes) -> Shard:
    body = bytes(body)
    if len(body) < HEADER_SIZE:
        raise ShardFormatError(f"truncated shard: {len(body)} bytes, the header alone is {HEADER_SIZE}")
    tag, version, footer_size = _HEADER.unpack_from(body)
    if tag != HEADER_TAG:
        raise ShardFormatError("not a shard: wrong magic tag")
    if version != HEADER_VERSION:
        raise ShardFormatError(f"bad shard header: version {version}, expected {HEADER_VERSION}")
    if footer_size not in (0, FOOTER_SIZE):
        raise ShardFormatError(f"bad shard header: footer size {footer_size}, expected 0 or {FOOTER_SIZE}")
    if len(body) < HEADER_SIZE + footer_size:
        raise ShardFormatError(f"truncated shard: {len(body)} bytes cannot hold a {footer_size}-byte footer")
    reader = _Reader(body, len(body) - footer_size)
    files = _read_files(reader)
    cas_start = reader.pos
    xorbs = _read_xorbs(reader)
    if not footer_size:
        if reader.pos != len(body):
            raise ShardFormatError(f"{len(body) - reader.pos} stray bytes after the CAS info section")
        return Shard(files, xorbs)
    key, expiry, created = _read_footer(body, cas_start, reader.pos)
    return Shard(files, xorbs, key, expiry, created)


def _file_records(file: ShardFile) -> list[bytes]:
    checks = [t.verification_hash for t in file.terms]
    verified = all(c is not None for c in checks)  # as the client, flags an empty file verified
    if not verified and any(c is not None for c in checks):
        raise ValueError("either every term of a file has a verification hash or none has")
    flags = (FLAG_WITH_VERIFICATION if verified else 0) | (FLAG_WITH_METADATA_EXT if file.sha256 else 0)
    records = [_FILE_HEADER.pack(file.file_hash, flags, len(file.terms))]
    records += [
        _FILE_ENTRY.pack(t.xorb_hash, 0, t.unpacked_size, t.chunk_start, t.chunk_end) for t in file.terms
    ]
    if verified:
        records += [_HASH_RECORD.pack(c) for c in checks]
    if file.sha256:
        records.append(_HASH_RECORD.pack(hex_to_hash(file.sha256)))
    return records


def _xorb_records(xorb: ShardXorb) -> list[bytes]:
    records = [
        _CAS_HEADER.pack(xorb.xorb_hash, 0, len(xorb.chunks), xorb.unpacked_size, xorb.serialized_size)
    ]
    records += [_CAS_ENTRY.pack(c.chunk_hash, c.byte_start, c.unpacked_size, c.flags) for c in xorb.chunks]
    return records


def _key(h: bytes) -> int:
    return int.from_bytes(h[:8], "little")


def _tables(shard: Shard) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int, int]]]:
    """The footer's lookup tables: (key, record index[, chunk index]) sorted on the key."""
    files, xorbs, chunks = [], [], []
    index = 0
    for f in shard.files:
        files.append((_key(f.file_hash), index))
        index += len(_file_records(f))
    index = 0
    for x in shard.xorbs:
        xorbs.append((_key(x.xorb_hash), index))
        chunks += [(_key(c.chunk_hash), index, i) for i, c in enumerate(x.chunks)]
        index += 1 + len(x.chunks)
    return sorted(files), sorted(xorbs), sorted(chunks)


def _footer(shard: Shard, cas_start: int, tables_start: int) -> bytes:
    file_table, xorb_table, chunk_table = _tables(shard)
    blobs = [
        b"".join(_LOOKUP.pack(*e) for e in file_table),
        b"".join(_LOOKUP.pack(*e) for e in xorb_table),
        b"".join(_CHUNK_LOOKUP.pack(*e) for e in chunk_table),
    ]
    offsets = [tables_start, tables_start + len(blobs[0]), tables_start + len(blobs[0]) + len(blobs[1])]
    counts = [len(file_table), len(xorb_table), len(chunk_table)]
    footer = _FOOTER.pack(
        FOOTER_VERSION,
        HEADER_SIZE,
        cas_start,
        *(v for pair in zip(offsets, counts, strict=True) for v in pair),
        shard.hmac_key,
        shard.created,
        shard.key_expiry,
        sum(x.serialized_size for x in shard.xorbs),
        sum(t.unpacked_size for f in shard.files for t in f.terms),
        sum(x.unpacked_size for x in shard.xorbs),
        offsets[2] + len(blobs[2]),
    )
    return b"".join(blobs) + footer


def serialize_shard(shard: Shard, *, footer: bool = True) -> bytes:
    """The shard's bytes: with its footer (and lookup tables) as a global deduplication answer,
    or with ``footer=False`` as a client uploads it."""
    files = b"".join(r for f in shard.files for r in _file_records(f)) + BOOKEND
    xorbs = b"".join(r for x in shard.xorbs for r in _xorb_records(x)) + BOOKEND
    header = _HEADER.pack(HEADER_TAG, HEADER_VERSION, FOOTER_SIZE if footer else 0)
    if not footer:
        return header + files + xorbs
    cas_start = HEADER_SIZE + len(files)
    return header + files + xorbs + _footer(shard, cas_start, cas_start + len(xorbs))


def dedup_answer(xorbs: list[ShardXorb], hmac_key: bytes, key_expiry: int, created: int) -> bytes:
    """The body answering a global deduplication query: these xorbs' chunks, hashes keyed.

    With a random key per answer, a client learns only the chunk hashes it already holds (it
    finds them by keying its own), never the rest of a xorb it could then claim in a shard.
    """
    if hmac_key == ZERO_HASH:
        raise ValueError("a zero key means unkeyed hashes: use a random key per answer")
    keyed = tuple(
        replace(x, chunks=tuple(replace(c, chunk_hash=keyed_hash(c.chunk_hash, hmac_key)) for c in x.chunks))
        for x in xorbs
    )
    return serialize_shard(Shard((), keyed, hmac_key, key_expiry, created))


def verify_file(file: ShardFile, chunk_hashes_by_xorb: dict[bytes, list[tuple[bytes, int]]]) -> bool:
    """Whether the file's terms name existing chunks whose hashes give the file hash it claims.

    ``chunk_hashes_by_xorb`` maps each xorb hash to its (chunk hash, chunk length) pairs in order.
    Term sizes and, when present, term verification hashes must match those chunks too.
    """
    chunks: list[tuple[bytes, int]] = []
    for term in file.terms:
        xorb = chunk_hashes_by_xorb.get(term.xorb_hash)
        if xorb is None or not 0 <= term.chunk_start < term.chunk_end <= len(xorb):
            return False
        span = xorb[term.chunk_start : term.chunk_end]
        if sum(size for _, size in span) != term.unpacked_size:
            return False
        check = term.verification_hash
        if check is not None and check != verification_hash(h for h, _ in span):
            return False
        chunks.extend(span)
    return file_hash(chunks) == file.file_hash
