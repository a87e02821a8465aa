"""Running the plaza under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from functools import partial
from typing import IO

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from modelplaza.api.app import create_app
from modelplaza.api.sendfile import ZEROCOPY
from modelplaza.config import Settings
from modelplaza.plaza import Plaza


def run(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plaza = Plaza(settings).migrate()
    logging.getLogger("modelplaza").info(
        "ModelPlaza on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir
    )
    uvicorn.run(
        ZeroCopySend(create_app(plaza)),
        host=settings.host,
        port=settings.port,
        # asyncio's own loop: it has sendfile(2) for transports, uvloop has not.
        loop="asyncio",
        http="httptools",
        log_level="info",
        timeout_keep_alive=30,
        access_log=False,
    )


class ZeroCopySend:
    """Adds the ASGI zero-copy send extension to uvicorn's httptools protocol, which lacks it.

    A ``http.response.zerocopy`` message becomes ``loop.sendfile`` on the connection's transport;
    uvicorn is then told the bytes went out, so its Content-Length accounting and keep-alive carry
    on. Connections of any other kind never see the extension and get ordinary streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(send, "__self__", None)
        if scope["type"] != "http" or not isinstance(cycle, RequestResponseCycle):
            await self.app(scope, receive, send)
            return
        scope["extensions"] = {**(scope.get("extensions") or {}), ZEROCOPY: {}}
        await self.app(scope, receive, partial(_send, cycle))


async def _send(cycle: RequestResponseCycle, message: Message) -> None:
    if message["type"] != ZEROCOPY:
        await cycle.send(message)
        return
    file, offset, count = message["file"], message.get("offset") or 0, message.get("count")
    if count is None:
        count = os.fstat(file.fileno()).st_size - offset
    if await _sendfile(cycle.transport, file, offset, count):
        cycle.expected_content_length -= count
        await cycle.send(
            {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
        )


async def _sendfile(transport: asyncio.Transport, file: IO[bytes], offset: int, count: int) -> bool:
    """Whether all ``count`` bytes went out. If not (the client left, the file was short), the
    connection is closed: nothing else can be said on it."""
    sent = -1
    if not transport.is_closing():
        with contextlib.suppress(OSError):  # The client went away.
            sent = await asyncio.get_running_loop().sendfile(transport, file, offset, count)
    if sent == count:
        return True
    transport.close()
    await asyncio.sleep(0)  # uvicorn sees the connection lost before the app returns: no error logged.
    return False
