"""Receiving request bodies: a JSON object, NDJSON lines as they arrive, or a large body into a
blob writer without stalling the event loop. Each is held to its route's limit as it streams in
(``modelplaza.http.limits``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.requests import Request

from modelplaza.errors import BadRequest
from modelplaza.http.threads import in_thread

BATCH = 4 << 20


class Sink(Protocol):
    """Where a body goes: a blob writer, or anything else taking bytes piece by piece."""

    def write(self, chunk: bytes) -> None: ...


async def json_object(request: Request) -> dict:
    """The body as a JSON object; BadRequest when it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


async def ndjson_lines(request: Request) -> AsyncIterator[list[bytes]]:
    """The body's non-blank lines, a batch each time some arrive whole: memory holds the line
    being received, never the whole body."""
    partial: list[bytes] = []
    async for chunk in request.stream():
        if b"\n" not in chunk:
            partial.append(chunk)
            continue
        first, *whole, rest = chunk.split(b"\n")
        lines = [line for line in (b"".join([*partial, first]), *whole) if line.strip()]
        partial = [rest] if rest else []
        if lines:
            yield lines
    last = b"".join(partial)
    if last.strip():
        yield [last]


async def receive_blob(request: Request, writer: Sink) -> None:
    """Feed the body to ``writer``. Each few MiB are hashed and written in a worker thread while
    the next ones arrive, so receiving and hashing run on two cores and the loop stays free."""
    writing: asyncio.Future | None = None
    try:
        async for batch in _batches(request.stream(), BATCH):
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(in_thread(_write_all, writer, batch))
    finally:
        # Never leave a thread writing to a file the caller may abort next.
        if writing is not None:
            await writing


def _write_all(writer: Sink, chunks: list[bytes]) -> None:
    for chunk in chunks:
        writer.write(chunk)


async def _batches(stream: AsyncIterator[bytes], size: int) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    held = 0
    async for chunk in stream:
        batch.append(chunk)
        held += len(chunk)
        if held >= size:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
