"""Running the plaza under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import select
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.server import STARTUP_FAILURE

from modelplaza.api.app import create_app
from modelplaza.api.sendfile import ZEROCOPY
from modelplaza.config import Settings
from modelplaza.jobs.worker import Worker, local_endpoint
from modelplaza.plaza import Plaza

# Downloads sent by threads of their own at once (more go through the event loop), and the seconds
# a client may take nothing before it is dropped.
SENDER_THREADS = 64
STALL_SECONDS = 120


def run(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plaza = Plaza(settings).migrate()
    logging.getLogger("modelplaza").info(
        "ModelPlaza on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir
    )
    config = uvicorn.Config(
        ZeroCopySend(create_app(plaza)),
        host=settings.host,
        port=settings.port,
        # asyncio's own loop: it has sendfile(2) for transports, uvloop has not.
        loop="asyncio",
        http="httptools",
        log_level="info",
        timeout_keep_alive=30,
        # Event streams of running jobs never end on their own: close them after a short grace.
        timeout_graceful_shutdown=5,
        access_log=False,
    )
    worker = None
    if settings.embedded_worker:
        worker = Worker(plaza, local_endpoint(settings), settings.job_concurrency)
    server = _Server(config, worker)
    # What start-up loaded lives as long as the process: kept out of the cyclic collector's
    # full passes, which would otherwise walk it all (tens of ms) in the middle of requests.
    gc.collect()
    gc.freeze()
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class _Server(uvicorn.Server):
    """uvicorn's server with the embedded job worker: it starts once the plaza listens (a job's
    first request must find it up) and stops as shutdown begins, while jobs can still report."""

    def __init__(self, config: uvicorn.Config, worker: Worker | None) -> None:
        super().__init__(config)
        self.worker = worker

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.worker is not None and not self.should_exit:
            self.worker.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
        await super().shutdown(sockets)


class ZeroCopySend:
    """Adds the ASGI zero-copy send extension to uvicorn's httptools protocol, which lacks it.

    A ``http.response.zerocopy`` message becomes sendfile(2) on the connection's socket; uvicorn
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
        scope["extensions"] = {**(scope.get("extensions") or {}), ZEROCOPY: {}}
        await self.app(scope, receive, partial(self._send, cycle))

    async def _send(self, cycle: RequestResponseCycle, message: Message) -> None:
        if message["type"] != ZEROCOPY:
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
