"""Running the plaza under granian.

granian offers the ASGI ``http.response.pathsend`` extension: a whole stored file is sent by the
server itself from its path, no byte passing through Python, which keeps downloads at nginx's
pace (bench/RESULTS.md, "Server comparison"). Ranges and files kept as Xet chunks are streamed.

One worker process serves HTTP, its app built there from the settings; the embedded job worker
runs beside it in that process, for as long as the app's lifespan lasts."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import sys
from functools import partial
from types import FrameType
from urllib.parse import urlsplit

from granian import Granian
from granian.constants import Interfaces
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelplaza.app import create_app
from modelplaza.config import Settings
from modelplaza.http.keepalive import KeepAlive
from modelplaza.jobs.worker import GRACE_SECONDS, Worker, local_endpoint
from modelplaza.plaza import Plaza

# The server's I/O threads (the app itself runs on one Python thread): one per core of a small
# machine, so that downloads keep their share of CPU when it is busy.
RUNTIME_THREADS = 2
# Seconds the serving process gets to stop before it is killed: open connections hold it up (the
# event streams of running jobs never end on their own), and the job worker, asked to stop as
# shutdown begins, gives its jobs their own grace to end.
STOP_SECONDS = GRACE_SECONDS + 5


def run(settings: Settings) -> None:
    _configure_logging()
    _refuse_taken_address(settings)
    Plaza(settings).migrate().close()  # Here, so that a failing migration stops the command.
    logging.getLogger("modelplaza").info(
        "ModelPlaza on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir
    )
    server = Granian(
        "modelplaza.server:app",  # Only named in granian's log: the app comes from ``app(settings)``.
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,
        runtime_threads=RUNTIME_THREADS,
        log_access=False,
        workers_kill_timeout=int(STOP_SECONDS),
    )
    server.serve(target_loader=partial(app, settings), wrap_loader=False)


def _refuse_taken_address(settings: Settings) -> None:
    """granian binds with SO_REUSEPORT, so a second plaza on a taken port would share it
    silently (two databases answering by turns): stop with a message instead."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            sys.exit(f"Cannot listen on {settings.host}:{settings.port}: {error.strerror}")


def app(settings: Settings) -> ASGIApp:
    """The plaza's app in the serving process, with the embedded job worker when it is on."""
    _configure_logging()
    plaza = Plaza(settings)
    served: ASGIApp = KeepAlive(create_app(plaza))
    if settings.embedded_worker:
        endpoint = local_endpoint(settings)
        served = WorkerLifespan(served, Worker(plaza, endpoint, settings.job_concurrency), endpoint)
    # What start-up loaded lives as long as the process: kept out of the cyclic collector's
    # full passes, which would otherwise walk it all (tens of ms) in the middle of requests.
    gc.collect()
    gc.freeze()
    return served


def _log_failure(task: asyncio.Task) -> None:
    """A task nobody awaits fails silently unless someone looks: the job worker would never start."""
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("modelplaza").error("Job worker did not start", exc_info=task.exception())


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class WorkerLifespan:
    """Runs the job worker while the app is up: it starts once the server answers at
    ``endpoint`` (a job's first request must find the plaza up), is asked to stop as soon as the
    process is told to (SIGTERM, SIGINT: open connections may keep the app's own shutdown from
    ever coming) and is waited for as the app shuts down."""

    def __init__(self, app: ASGIApp, worker: Worker, endpoint: str) -> None:
        self.app = app
        self.worker = worker
        self.endpoint = endpoint
        self._starting: asyncio.Task | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                if self._starting is not None:
                    self._starting.cancel()
                await asyncio.to_thread(self.worker.stop)
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self._starting = asyncio.create_task(self._start_once_listening())
                self._starting.add_done_callback(_log_failure)
                for number in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(number, partial(self._stop_signal, signal.getsignal(number)))
            await send(message)

        await self.app(scope, receiving, sending)

    def _stop_signal(self, previous: object, number: int, frame: FrameType | None) -> None:
        """Python calls this beside the server's own handler (the event loop learns of the
        signal from its wakeup descriptor), or instead of it when the server set a plain one."""
        self.worker.request_stop()
        if callable(previous):
            previous(number, frame)

    async def _start_once_listening(self) -> None:
        """granian listens only after the app has started: wait for the address to take a
        connection before the worker may start jobs."""
        address = urlsplit(self.endpoint)
        while True:
            try:
                _, writer = await asyncio.open_connection(address.hostname, address.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            self.worker.start()
            return
