"""NDJSON commit bodies are taken line by line however the network cuts them into pieces."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from modelplaza.api.receive import ndjson_lines

LINES = [b'{"key": "header", "value": {}}', b'{"key": "file", "value": {"content": "QUJD"}}', b"{}"]
BODY = b"\n".join(LINES) + b"\n"


def _lines(pieces: list[bytes]) -> list[list[bytes]]:
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in pieces]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict:
        return messages.pop(0)

    async def collect() -> list[list[bytes]]:
        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        return [batch async for batch in ndjson_lines(request)]

    return asyncio.run(collect())


@pytest.mark.parametrize("size", [1, 2, 5, 17, len(BODY)])
def test_lines_split_across_pieces_arrive_whole(size):
    pieces = [BODY[i : i + size] for i in range(0, len(BODY), size)]
    batches = _lines(pieces)
    assert [line for batch in batches for line in batch] == LINES
    assert all(batches)


def test_blank_lines_are_skipped_and_the_last_line_needs_no_newline():
    assert _lines([b"\n\n  \n{}\n\n", b'{"a"', b": 1}"]) == [[b"{}"], [b'{"a": 1}']]
