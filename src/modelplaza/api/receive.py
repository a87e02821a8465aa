"""Receiving request bodies: a JSON object, NDJSON lines as they arrive, or a large body into a
blob writer without stalling the event loop. Each is held to its route's limit as it streams in
(``modelplaza.http.limits``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Protocol

from fastapi import Depends
from starlette.requests import Request

from modelplaza.errors import BadRequest
from modelplaza.http.threads import in_thread

BATCH = 4 << 20


class Sink(Protocol):
    """Where a body goes: a blob writer, or anything else taking bytes piece by piece."""

    def write(self, chunk: bytes) -> None: ...


def _strings(value: object) -> Iterator[str]:
    """Every string in parsed JSON, keys included (iteratively: JSON may nest deeply)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def check_text(value: object) -> None:
    """BadRequest when a string in ``value`` (parsed JSON) is not Unicode text: JSON can
    escape half of a surrogate pair (``"\\ud800"``), which is no character, so no name, path,
    message or file can hold it."""
    for text in _strings(value):
        if text.isascii():
            continue
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise BadRequest(
                f"Invalid text in the request: {text[error.start]!r} is a lone surrogate, "
                "not a Unicode character"
            ) from None


def parse_json(data: bytes) -> object:
    """JSON text as Python values; BadRequest when it is not JSON, nests too deeply to read or
    is not Unicode text (``check_text``)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise BadRequest("The request body is not valid JSON") from None
    check_text(value)
    return value


async def json_object(request: Request) -> dict:
    """The body as a JSON object; BadRequest when it is not one."""
    body = parse_json(await request.body())
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


async def optional_json_object(request: Request) -> dict:
    """The body as a JSON object, or an empty one when there is no body at all."""
    return await json_object(request) if await request.body() else {}


# Bodies read on the event loop before the handler runs: handlers taking them stay plain
# ``def`` functions, which FastAPI runs in its threadpool (see modelplaza/http/threads.py).
JsonObject = Annotated[dict, Depends(json_object)]
OptionalJsonObject = Annotated[dict, Depends(optional_json_object)]


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
