"""Reading byte ranges of a file kept as Xet chunks: exact at every chunk, term and xorb edge."""

from __future__ import annotations

import itertools
import random

import pytest

from modelplaza.storage.local import LocalBlobStore
from modelplaza.xet import reader
from modelplaza.xet.xorb import CompressionScheme, chunk_byte_offsets, serialize_xorb

SIZES = [[5000, 1, 70_000, 3, 131_072], [17, 40_000, 9000]]


@pytest.fixture
def stored(tmp_path):
    """Two xorbs of mixed compression, and a file made of chunk ranges of both."""
    rng = random.Random(7)
    store = LocalBlobStore(tmp_path)
    chunks, offsets = {}, {}
    for number, sizes in enumerate(SIZES):
        # Half the chunks compressible (runs of one byte), half random.
        data = [bytes([i]) * n if i % 2 else rng.randbytes(n) for i, n in enumerate(sizes)]
        key = f"{number:064x}"
        body = serialize_xorb(data, CompressionScheme.BG4_LZ4 if number else None)
        store.put_keyed(key, body)
        chunks[key], offsets[key] = data, chunk_byte_offsets(body)
    a, b = sorted(chunks)
    terms = [[a, 0, 2, 5001], [b, 1, 3, 49_000], [a, 2, 5, 201_075], [b, 0, 1, 17]]
    content = b"".join(b"".join(chunks[x][first:end]) for x, first, end, _ in terms)

    def lookup(xorb: str, first: int, end: int) -> list[tuple[int | None, int]]:
        return [(offsets[xorb][i], len(chunks[xorb][i])) for i in range(first, end)]

    return store, terms, content, lookup


def _read(stored, start: int, end: int, chunk_size: int = 1 << 20) -> bytes:
    store, terms, _, lookup = stored
    return b"".join(reader.read_spans(store, reader.plan(terms, lookup, start, end), chunk_size))


def test_every_range_between_chunk_edges_is_exact(stored):
    _, terms, content, lookup = stored
    edges = {0, len(content) - 1}
    position = 0
    for xorb, first, end, _ in terms:
        for _, size in lookup(xorb, first, end):
            edges |= {position - 1, position, position + 1}
            position += size
    edges = sorted(e for e in edges if 0 <= e < len(content))
    for start, end in itertools.combinations_with_replacement(edges, 2):
        assert _read(stored, start, end) == content[start : end + 1], (start, end)


def test_random_ranges_in_small_pieces(stored):
    content = stored[2]
    rng = random.Random(3)
    for _ in range(200):
        start = rng.randrange(len(content))
        end = rng.randrange(start, len(content))
        assert (
            _read(stored, start, end, chunk_size=rng.choice([1, 4096, 1 << 20])) == content[start : end + 1]
        )


def test_only_overlapping_chunks_are_looked_up(stored):
    _, terms, _, lookup = stored
    asked = []
    spans = reader.plan(terms, lambda *args: asked.append(args) or lookup(*args), 5001, 5001 + 20)
    assert [s.sizes for s in spans] == [(40_000,)]
    assert len(asked) == 1


def test_a_xorb_stored_without_offsets_is_still_read(stored):
    store, terms, content, lookup = stored
    spans = reader.plan(terms, lambda *args: [(None, size) for _, size in lookup(*args)], 100, 250_000)
    assert b"".join(reader.read_spans(store, spans, 1 << 16)) == content[100:250_001]
