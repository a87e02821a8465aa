"""Xet downloads: the CAS reconstruction answer ("which chunks of which xorbs make this file,
and where to fetch them"), for files a CAS token's repo actually holds (which
``modelplaza.hub.content.readable_xet_file`` decides)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import XetFile, XorbChunk
from modelplaza.errors import RangeNotSatisfiable
from modelplaza.storage import BlobStore
from modelplaza.xet.xorb import CHUNK_HEADER_SIZE, chunk_byte_offsets

# Gives the URL a xorb's bytes are fetched from.
XorbUrl = Callable[[str], str]


def reconstruction(
    session: Session, xorbs: BlobStore, xet_file: XetFile, byte_range: tuple[int, int] | None, url: XorbUrl
) -> dict:
    """The terms covering bytes ``start..end`` (inclusive; the whole file without a range),
    with the byte ranges of the xorbs to fetch them from (``url_range`` ends are inclusive)."""
    if byte_range is None:
        start, end = 0, xet_file.size - 1
    else:
        start, end = byte_range[0], min(byte_range[1], xet_file.size - 1)
        if start >= xet_file.size:
            raise RangeNotSatisfiable(xet_file.size)
    terms: list[dict] = []
    fetch_info: dict[str, list[dict]] = {}
    offset_into_first = 0
    term_start = 0
    for xorb, first, last, unpacked in xet_file.terms:
        if term_start > end:
            break
        if term_start + unpacked > start:
            sizes = _chunk_sizes(session, xorb, first, last)
            a, b, a_start = _overlap(sizes, first, term_start, start, end)
            if not terms:
                offset_into_first = start - a_start
            length = sum(sizes[a - first : b - first])
            terms.append({"hash": xorb, "unpacked_length": length, "range": {"start": a, "end": b}})
            _add_fetch(session, xorbs, fetch_info, xorb, a, b, url)
        term_start += unpacked
    return {"offset_into_first_range": offset_into_first, "terms": terms, "fetch_info": fetch_info}


def _chunk_sizes(session: Session, xorb: str, first: int, end: int) -> list[int]:
    return list(
        session.scalars(
            select(XorbChunk.unpacked_size)
            .where(XorbChunk.xorb_hash == xorb, XorbChunk.index >= first, XorbChunk.index < end)
            .order_by(XorbChunk.index)
        )
    )


def _overlap(sizes: list[int], first: int, position: int, start: int, end: int) -> tuple[int, int, int]:
    """The chunks [a, b) of a term beginning at file byte ``position`` that hold bytes of
    ``start..end``, and the file byte where chunk ``a`` begins."""
    a = b = first
    a_start = position
    for index, size in enumerate(sizes, first):
        if position + size <= start:
            a, a_start = index + 1, position + size
        elif position <= end:
            b = index + 1
        position += size
    return a, b, a_start


def _add_fetch(
    session: Session, xorbs: BlobStore, fetch_info: dict, xorb: str, a: int, b: int, url: XorbUrl
) -> None:
    entries = fetch_info.setdefault(xorb, [])
    if any(e["range"] == {"start": a, "end": b} for e in entries):
        return
    first_byte, end_byte = _packed_span(session, xorbs, xorb, a, b)
    entries.append(
        {
            "range": {"start": a, "end": b},
            "url": url(xorb),
            "url_range": {"start": first_byte, "end": end_byte - 1},
        }
    )


def _packed_span(session: Session, xorbs: BlobStore, xorb: str, a: int, b: int) -> tuple[int, int]:
    """Where chunks [a, b) lie in the serialized xorb: [start, end) in bytes."""
    rows = session.execute(
        select(XorbChunk.index, XorbChunk.packed_start).where(
            XorbChunk.xorb_hash == xorb, XorbChunk.index.in_((a, b - 1, b))
        )
    )
    packed = {index: start for index, start in rows if start is not None}
    if a not in packed or b - 1 not in packed:  # a xorb stored before offsets were kept
        offsets = chunk_byte_offsets(xorbs.read_bytes(xorb))
        return offsets[a], offsets[b]
    if b in packed:
        return packed[a], packed[b]
    with xorbs.open(xorb) as stream:  # the last chunk: its header gives its stored length
        stream.seek(packed[b - 1])
        header = stream.read(CHUNK_HEADER_SIZE)
    return packed[a], packed[b - 1] + CHUNK_HEADER_SIZE + int.from_bytes(header[1:4], "little")
