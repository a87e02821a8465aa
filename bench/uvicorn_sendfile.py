"""The download path ``plaza serve`` took before it moved to granian, kept for the server
comparison (``server_bench.py``, candidate ``uvicorn+sendfile``) only.

uvicorn's httptools protocol offers no zero-copy send, so this wrapper reaches into its private
``RequestResponseCycle``: an ``http.response.zerocopysend`` message becomes sendfile(2) on the
connection's socket, in a thread per download, and the cycle's byte count is then corrected by
hand. That dependence on uvicorn's internals is why the plaza no longer serves this way; when the
installed uvicorn has changed them, ``available()`` says so and the benchmark skips the row."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelplaza.http.responses import ZEROCOPYSEND

# Downloads sent by threads of their own at once (more go through the event loop), and the seconds
# a client may take nothing before it is dropped.
SENDER_THREADS = 64
STALL_SECONDS = 120

try:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
except ImportError:  # httptools missing, or uvicorn moved its internals.
    RequestResponseCycle = None


def available() -> bool:
    return RequestResponseCycle is not None


def serve(app: ASGIApp, port: int) -> None:
    import uvicorn

    # asyncio's own loop: it has sendfile(2) for transports, uvloop has not.
    config = {"loop": "asyncio", "http": "httptools", "access_log": False, "timeout_keep_alive": 30}
    uvicorn.run(ZeroCopySend(app), host="127.0.0.1", port=port, **config)


class ZeroCopySend:
    """Adds the ASGI zero-copy send extension to uvicorn's httptools protocol, which lacks it.

    A ``http.response.zerocopysend`` message becomes sendfile(2) on the connection's socket; uvicorn
    is then told the bytes went out, so its Content-Length accounting and keep-alive carry on.
    Connections of any other kind never see the extension and get ordinary streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.senders = _Senders(SENDER_THREADS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(send, "__self__", None)
        if scope["type"] != "http" or not isinstance(cycle, RequestResponseCycle):
            await self.app(scope, receive, send)
            return
        scope["extensions"] = {**(scope.get("extensions") or {}), ZEROCOPYSEND: {}}
        await self.app(scope, receive, partial(self._send, cycle))

    async def _send(self, cycle: RequestResponseCycle, message: Message) -> None:
        if message["type"] != ZEROCOPYSEND:
            await cycle.send(message)
            return
        file, offset, count = message["file"], message.get("offset") or 0, message.get("count")
        if count is None:
            count = os.fstat(file.fileno()).st_size - offset
        if await self._sendfile(cycle.transport, file, offset, count):
            cycle.expected_content_length -= count
            more_body = message.get("more_body", False)
            await cycle.send({"type": "http.response.body", "body": b"", "more_body": more_body})

    async def _sendfile(self, transport: asyncio.Transport, file: IO[bytes], offset: int, count: int) -> bool:
        """Whether all ``count`` bytes went out. If not (the client left, the file was short), the
        connection is closed: nothing else can be said on it."""
        sent = -1
        if not transport.is_closing():
            with contextlib.suppress(OSError):  # The client went away.
                sent = await self.senders.send(transport, file, offset, count)
        if sent == count:
            return True
        transport.close()
        await asyncio.sleep(0)  # uvicorn sees the connection lost before the app returns: no error logged.
        return False


class _Senders:
    """Each download gets a thread blocking in sendfile(2) for the whole transfer, as the workers of
    a classic file server do: the kernel work spreads over every core and keeps its share of CPU
    however busy the machine, where one event loop thread would be starved. Past ``threads``
    downloads at once, or when the response headers are still queued, the event loop drives the
    transfer itself (asyncio's ``loop.sendfile``)."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sendfile")
        self._free = threads

    async def send(self, transport: asyncio.Transport, file: IO[bytes], offset: int, count: int) -> int:
        loop = asyncio.get_running_loop()
        if not self._free or transport.get_write_buffer_size():
            return await loop.sendfile(transport, file, offset, count)
        # The thread gets descriptors of its own and closes them: it may outlive this coroutine.
        descriptors = _dup(transport.get_extra_info("socket").fileno(), file.fileno())
        reading = transport.is_reading()
        transport.pause_reading()
        self._free -= 1
        try:
            return await loop.run_in_executor(self._pool, _send_blocking, *descriptors, offset, count)
        finally:
            self._free += 1
            if reading:
                transport.resume_reading()


def _dup(*fds: int) -> list[int]:
    copies: list[int] = []
    try:
        for fd in fds:
            copies.append(os.dup(fd))
    except OSError:
        for fd in copies:
            os.close(fd)
        raise
    return copies


def _send_blocking(socket_fd: int, file_fd: int, offset: int, count: int) -> int:
    """Bytes sent before the end, the client leaving or stalling; closes both descriptors."""
    poller = select.poll()
    poller.register(socket_fd, select.POLLOUT)
    sent = 0
    try:
        while sent < count:
            try:
                done = os.sendfile(socket_fd, file_fd, offset + sent, count - sent)
            except BlockingIOError:  # The socket stays non-blocking: wait until it takes more.
                if not poller.poll(STALL_SECONDS * 1000):
                    break
                continue
            if not done:
                break  # The file is shorter than announced.
            sent += done
    except OSError:
        pass  # The client went away.
    finally:
        os.close(socket_fd)
        os.close(file_fd)
    return sent
