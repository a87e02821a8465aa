"""Xorbs: the serialized runs of chunks a client uploads (Xet specification v1.1.0, "Xorb Format").

A xorb is a sequence of chunks, each an 8-byte header (version 0, compressed size as 3 bytes
little-endian, compression scheme, uncompressed size as 3 bytes little-endian) followed by the
chunk's compressed bytes. Clients upload xorbs without a footer; a stored xorb may end with the
reference implementation's metadata footer, which starts with ``XETBLOB`` and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import BinaryIO, TypeVar

import lz4.frame

from modelplaza.xet.hashing import chunk_hash

# Headers are read from whole bodies, from views of the bytes still streaming in, and from buffers.
ByteView = bytes | bytearray | memoryview
# A chunk's stored bytes are decoded from a whole body, or from a view of the streaming bytes.
Stored = TypeVar("Stored", bytes, memoryview)

CHUNK_HEADER_SIZE = 8
CHUNK_VERSION = 0
MAX_CHUNK_SIZE = 128 * 1024  # no chunk holds more, uncompressed
# The specification caps a serialized xorb at 64 MiB, but hf_xet closes a xorb when its chunks'
# data (not counting their headers) would pass 64 MiB or it holds 8 Ki chunks: the CAS accepts that.
MAX_XORB_SIZE = 64 * 1024 * 1024 + 8 * 1024 * CHUNK_HEADER_SIZE
FOOTER_IDENT = b"XETBLOB"


class XorbFormatError(ValueError):
    """The bytes are not a well-formed xorb."""


class CompressionScheme(IntEnum):
    NONE = 0
    LZ4 = 1
    BG4_LZ4 = 2  # bytes grouped by their position in each 4-byte word, then LZ4


@dataclass(frozen=True)
class XorbChunk:
    hash: bytes
    data: bytes  # uncompressed


@dataclass(frozen=True)
class ChunkHeader:
    offset: int  # where the header starts in the xorb
    stored_size: int
    scheme: CompressionScheme
    size: int  # uncompressed

    @property
    def end(self) -> int:
        return self.offset + CHUNK_HEADER_SIZE + self.stored_size


def _parse_header(raw: ByteView, offset: int, index: int) -> ChunkHeader:
    """The 8 header bytes of chunk ``index``, which starts at byte ``offset`` of the xorb."""
    if raw[0] != CHUNK_VERSION:
        raise XorbFormatError(f"bad header of chunk {index} at byte {offset}: version {raw[0]}, expected 0")
    try:
        scheme = CompressionScheme(raw[4])
    except ValueError:
        raise XorbFormatError(f"bad header of chunk {index}: unknown compression scheme {raw[4]}") from None
    header = ChunkHeader(
        offset, int.from_bytes(raw[1:4], "little"), scheme, int.from_bytes(raw[5:8], "little")
    )
    if not 0 < header.size <= MAX_CHUNK_SIZE:
        raise XorbFormatError(
            f"bad length of chunk {index}: {header.size} bytes, chunks hold 1 to {MAX_CHUNK_SIZE}"
        )
    if scheme is CompressionScheme.NONE and header.stored_size != header.size:
        raise XorbFormatError(
            f"bad length of uncompressed chunk {index}: {header.stored_size} != {header.size}"
        )
    return header


def _read_header(body: ByteView, offset: int, index: int, base: int = 0) -> ChunkHeader:
    """The header at byte ``offset`` of a xorb whose bytes from ``base`` on are ``body``."""
    raw = body[offset - base : offset - base + CHUNK_HEADER_SIZE]
    if len(raw) < CHUNK_HEADER_SIZE:
        raise XorbFormatError(f"truncated xorb: chunk {index} header at byte {offset} is cut short")
    header = _parse_header(raw, offset, index)
    if header.end > base + len(body):
        raise XorbFormatError(
            f"truncated xorb: chunk {index} needs bytes up to {header.end}, the body has {base + len(body)}"
        )
    return header


def read_chunk_headers(body: bytes) -> list[ChunkHeader]:
    """The chunks' headers in order, checked for shape and bounds but not decompressed."""
    if len(body) > MAX_XORB_SIZE:
        raise XorbFormatError(f"xorb of {len(body)} bytes is over the {MAX_XORB_SIZE}-byte limit")
    headers: list[ChunkHeader] = []
    offset = 0
    while offset < len(body):
        if headers and body.startswith(FOOTER_IDENT, offset):
            break
        headers.append(_read_header(body, offset, len(headers)))
        offset = headers[-1].end
    if not headers:
        raise XorbFormatError("empty xorb: it holds no chunk")
    return headers


def _lz4_decompress(stored: ByteView, size: int) -> bytes:
    # Bounded so that a forged frame cannot inflate past the size its header declares.
    decompressor = lz4.frame.LZ4FrameDecompressor()
    data = decompressor.decompress(stored, max_length=size + 1)
    if len(data) != size or not decompressor.eof or decompressor.unused_data:
        raise ValueError(f"the LZ4 frame does not hold exactly {size} bytes")
    return data


def bg4_group(data: bytes) -> bytes:
    return b"".join(data[k::4] for k in range(4))


def bg4_ungroup(grouped: bytes) -> bytes:
    out = bytearray(len(grouped))
    start = 0
    for k in range(4):
        count = len(out[k::4])
        out[k::4] = grouped[start : start + count]
        start += count
    return bytes(out)


def decode_stored(stored: Stored, header: ChunkHeader, index: int = 0) -> Stored | bytes:
    """A chunk's data from its stored bytes (those after its header); uncompressed, the
    stored bytes themselves."""
    if header.scheme is CompressionScheme.NONE:
        return stored
    try:
        data = _lz4_decompress(stored, header.size)
    except (RuntimeError, ValueError) as exc:
        raise XorbFormatError(
            f"decompression of chunk {index} ({header.scheme.name}) failed: {exc}"
        ) from None
    return bg4_ungroup(data) if header.scheme is CompressionScheme.BG4_LZ4 else data


def read_chunk(stream: BinaryIO, index: int = 0) -> bytes:
    """The next chunk of a xorb open at a chunk header, decompressed."""
    raw = stream.read(CHUNK_HEADER_SIZE)
    if len(raw) < CHUNK_HEADER_SIZE:
        raise XorbFormatError(f"truncated xorb: chunk {index} header is cut short")
    header = _parse_header(raw, 0, index)
    stored = stream.read(header.stored_size)  # The one copy: page cache to here.
    if len(stored) < header.stored_size:
        raise XorbFormatError(
            f"truncated xorb: chunk {index} has {len(stored)} of {header.stored_size} bytes"
        )
    return decode_stored(stored, header, index)


class XorbReader:
    """Checks a xorb as its bytes arrive, as ``parse_xorb`` does a whole one: each chunk is
    decompressed and hashed once its last byte is in, then dropped, so that neither the body
    nor its data need be held whole. ``headers`` and ``hashes`` grow chunk by chunk."""

    def __init__(self) -> None:
        self.headers: list[ChunkHeader] = []
        self.hashes: list[bytes] = []
        self.size = 0  # bytes fed
        self._pending = bytearray()  # fed bytes not yet part of a whole chunk
        self._footer = False

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_XORB_SIZE:
            raise XorbFormatError(f"xorb of over {MAX_XORB_SIZE} bytes: that is the limit")
        if self._footer:
            return
        self._pending += data
        self._take_chunks()

    def _take_chunks(self) -> None:
        pending, start = self._pending, 0
        with memoryview(pending) as view:  # Slices without copies, all gone before the resize.
            while not self._at_footer(start):
                end = self._take_chunk(view, start)
                if end is None:
                    break
                start = end
        del pending[: len(pending) if self._footer else start]

    def _at_footer(self, start: int) -> bool:
        if self.headers and self._pending.startswith(FOOTER_IDENT, start):
            self._footer = True  # A stored xorb's metadata: neither checked nor kept.
        return self._footer

    def _take_chunk(self, view: memoryview, start: int) -> int | None:
        """Check the chunk at ``start`` of the pending bytes and return where it ends; None if
        its bytes are not all in yet."""
        if len(view) - start < CHUNK_HEADER_SIZE:
            return None
        index, offset = len(self.headers), self.size - len(view) + start
        header = _parse_header(view[start : start + CHUNK_HEADER_SIZE], offset, index)
        end = start + CHUNK_HEADER_SIZE + header.stored_size
        if end > len(view):
            return None
        self.hashes.append(chunk_hash(decode_stored(view[start + CHUNK_HEADER_SIZE : end], header, index)))
        self.headers.append(header)
        return end

    def close(self) -> None:
        """Raise XorbFormatError unless what was fed is a whole xorb."""
        if self._pending:
            # Less than a whole chunk is left: this raises the error a whole body ending so gets.
            base = self.size - len(self._pending)
            _read_header(self._pending, base, len(self.headers), base)
            raise XorbFormatError(f"truncated xorb: it ends inside chunk {len(self.headers)}")
        if not self.headers:
            raise XorbFormatError("empty xorb: it holds no chunk")


def parse_xorb(body: bytes) -> list[XorbChunk]:
    """Every chunk of the xorb, decompressed and hashed; the caller compares the xorb hash."""
    body = bytes(body)
    chunks = []
    for index, header in enumerate(read_chunk_headers(body)):
        data = decode_stored(body[header.offset + CHUNK_HEADER_SIZE : header.end], header, index)
        chunks.append(XorbChunk(chunk_hash(data), data))
    return chunks


def chunk_byte_offsets(body: bytes) -> list[int]:
    """Where each chunk starts in the serialized xorb, then where the last one ends.

    Chunk range [i, j) of a xorb is the byte range [offsets[i], offsets[j]) of its body.
    """
    headers = read_chunk_headers(body)
    return [h.offset for h in headers] + [headers[-1].end]


def _encode(data: bytes, scheme: CompressionScheme) -> bytes:
    if scheme is CompressionScheme.NONE:
        return data
    grouped = bg4_group(data) if scheme is CompressionScheme.BG4_LZ4 else data
    return lz4.frame.compress(grouped)


def serialize_chunk(data: bytes, scheme: CompressionScheme | None = None) -> bytes:
    """One chunk with its header; with no scheme given, LZ4 when it saves space, else stored."""
    if not 0 < len(data) <= MAX_CHUNK_SIZE:
        raise ValueError(f"a chunk holds 1 to {MAX_CHUNK_SIZE} bytes, got {len(data)}")
    if scheme is None:
        stored = _encode(data, CompressionScheme.LZ4)
        scheme = CompressionScheme.LZ4 if len(stored) < len(data) else CompressionScheme.NONE
        stored = stored if scheme is CompressionScheme.LZ4 else data
    else:
        stored = _encode(data, scheme)
    return (
        bytes([CHUNK_VERSION])
        + len(stored).to_bytes(3, "little")
        + bytes([scheme])
        + len(data).to_bytes(3, "little")
        + stored
    )


def serialize_xorb(chunks: list[bytes], scheme: CompressionScheme | None = None) -> bytes:
    """A xorb of these chunks, as a client uploads it (no footer)."""
    if not chunks:
        raise ValueError("a xorb holds at least one chunk")
    return b"".join(serialize_chunk(data, scheme) for data in chunks)
