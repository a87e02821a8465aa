"""Keeping a client's connection usable when the plaza answers before reading the request body.

A refusal (a bad token, a 413, an unexpected error) can go out before the body it answers has
been read. granian then closes the connection once the answer is sent, with no word to the
client, if more of the body is left than it holds buffered (some tens of KiB): a client that
keeps connections alive sends its next request into a closed socket and gets a reset. The
exception itself is not the cause; a 500 that has read its body keeps the connection.

``KeepAlive`` reads what is left of a body, up to ``DRAIN_LIMIT`` bytes within
``DRAIN_SECONDS``, before the answer starts, so the connection carries the next request. A
larger (or slower) rest is not read: the answer says ``Connection: close``, so the client opens
a new connection instead of failing. Handlers read their body before they answer; one that
started an answer and then read its body would find it gone."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_LIMIT = 1 << 20
DRAIN_SECONDS = 5.0


def _announced_body(scope: Scope) -> int | None:
    """The body's announced length: 0 for none, None when it is chunked (unknown)."""
    length = 0
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            length = int(value) if value.isdigit() and len(value) < 19 else DRAIN_LIMIT + 1
    return length


class KeepAlive:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _announced_body(scope) == 0:
            await self.app(scope, receive, send)
            return
        body = _Body(scope, receive)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and not body.whole and not await body.drain():
                headers = list(message.get("headers", ()))
                if (b"connection", b"close") not in headers:  # a 413 may have said so already
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, body.receive, sending)


class _Body:
    """A request body as the app reads it, and what is left of it."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._receive = receive
        self._announced = _announced_body(scope)
        self.read = 0
        self.whole = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            self.whole = not message.get("more_body", False)
        else:  # http.disconnect: nothing more will come
            self.whole = True
        return message

    async def drain(self) -> bool:
        """Read the rest and throw it away; False when it is too large or too slow for that."""
        if self._announced is not None and self._announced - self.read > DRAIN_LIMIT:
            return False
        start = self.read
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while not self.whole:
                    await self.receive()
                    if self.read - start > DRAIN_LIMIT:
                        return False
        except TimeoutError:
            return False
        return True
