"""Reading a Xet-uploaded file from its chunks: only the chunks a byte range overlaps are
read, each found by seeking to its header in the xorb, and decompressed one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import XorbChunk
from modelplaza.storage import BlobStore
from modelplaza.xet.xorb import XorbFormatError, chunk_byte_offsets, read_chunk

# A term as XetFile keeps it: [xorb hash, first chunk, end chunk (exclusive), unpacked bytes].
Term = list
# For a xorb and a chunk range [first, end): each chunk's (packed start, unpacked size).
ChunkLookup = Callable[[str, int, int], list[tuple[int | None, int]]]


@dataclass(frozen=True)
class Span:
    """Consecutive chunks of one xorb, of which ``take`` bytes from ``skip`` on are wanted."""

    xorb: str
    packed_start: int | None  # None: unknown (a xorb stored before offsets were kept)
    first: int  # the index of the first chunk in its xorb
    sizes: tuple[int, ...]  # unpacked
    skip: int
    take: int


def plan(terms: list[Term], chunks: ChunkLookup, start: int, end: int) -> list[Span]:
    """The spans holding bytes ``start..end`` (inclusive) of the file the terms make."""
    spans = []
    term_start = 0
    for xorb, first, last, unpacked in terms:
        term_end = term_start + unpacked  # exclusive
        if term_end > start and term_start <= end:
            spans.append(_term_span(xorb, first, chunks(xorb, first, last), term_start, start, end))
        term_start = term_end
        if term_start > end:
            break
    return spans


def _term_span(
    xorb: str, first: int, rows: list[tuple[int | None, int]], offset: int, start: int, end: int
) -> Span:
    """The part of one term that overlaps ``start..end``; ``offset`` is where the term begins."""
    skipped = 0
    while offset + rows[skipped][1] <= start:
        offset += rows[skipped][1]
        skipped += 1
    wanted: list[int] = []
    position = offset
    for _, size in rows[skipped:]:
        if position > end:
            break
        wanted.append(size)
        position += size
    skip = max(start - offset, 0)
    take = min(end + 1, position) - offset - skip
    return Span(xorb, rows[skipped][0], first + skipped, tuple(wanted), skip, take)


def read_spans(xorbs: BlobStore, spans: list[Span], chunk_size: int) -> Iterator[bytes]:
    """The spans' wanted bytes, in pieces of about ``chunk_size``; one chunk decompressed at a time."""
    pending = bytearray()
    for data in span_pieces(xorbs, spans):
        pending += data
        if len(pending) >= chunk_size:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)


def span_pieces(xorbs: BlobStore, spans: list[Span]) -> Iterator[bytes]:
    """The spans' wanted bytes as they come: a chunk's, or part of one, at a time."""
    for span in spans:
        yield from _span_bytes(xorbs, span)


def _span_bytes(xorbs: BlobStore, span: Span) -> Iterator[bytes]:
    packed_start = span.packed_start
    if packed_start is None:
        packed_start = chunk_byte_offsets(xorbs.read_bytes(span.xorb))[span.first]
    skip, left = span.skip, span.take
    with xorbs.open(span.xorb) as stream:
        stream.seek(packed_start)
        for index, size in enumerate(span.sizes, span.first):
            data = read_chunk(stream, index)
            if len(data) != size:
                raise XorbFormatError(
                    f"chunk {index} of xorb {span.xorb} holds {len(data)} bytes, not {size}"
                )
            piece = data[skip : skip + left]
            skip, left = 0, left - len(piece)
            yield piece


def session_chunks(session: Session) -> ChunkLookup:
    """Chunk lookups answered from the database."""

    def lookup(xorb: str, first: int, end: int) -> list[tuple[int | None, int]]:
        rows = session.execute(
            select(XorbChunk.packed_start, XorbChunk.unpacked_size)
            .where(XorbChunk.xorb_hash == xorb, XorbChunk.index >= first, XorbChunk.index < end)
            .order_by(XorbChunk.index)
        )
        return [(start, size) for start, size in rows]

    return lookup


def read_range(
    session: Session, xorbs: BlobStore, terms: list[Term], start: int, end: int, chunk_size: int
) -> Iterator[bytes]:
    """Bytes ``start..end`` (inclusive) of the file the terms make. The chunks are looked up
    now; the bytes are read as the iterator is consumed, so the session may close before."""
    return read_spans(xorbs, plan(terms, session_chunks(session), start, end), chunk_size)
