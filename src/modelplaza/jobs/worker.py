"""The worker loop: claims queued jobs, runs each in a subprocess of its own (``runner``), stores
what the subprocess prints as log events, keeps the jobs' heartbeats, stops cancelled jobs and
records how each one ended.

A runner process imports torch and the training code (seconds) before it reads its job's id and
token from its input. Once a worker has run a job, it keeps one such process started ahead
whenever a job could start next (a slot is free, or jobs wait for one), so the next job starts
with its imports done; each process still runs one job only, and an idle spare is let go after
``SPARE_IDLE_SECONDS``.

Stopping the worker (the plaza shutting down) terminates its running jobs and puts them back in
the queue through ``queue.recover_orphans``, whose event says why. A job starts from scratch
when it runs again; training is reproducible, so that gives the same model, and a job stopped
this way too often is failed for good (``queue.MAX_ATTEMPTS``)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.auth import job_tokens
from modelplaza.config import Settings
from modelplaza.db.models import Job, JobEvent
from modelplaza.jobs import queue
from modelplaza.jobs.context import SUMMARY_PREFIX
from modelplaza.plaza import Plaza

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 5.0
# How often jobs of other workers that went silent are looked for.
RECOVERY_SECONDS = 30.0
# Seconds a job has to stop after SIGTERM before it is killed.
GRACE_SECONDS = 10.0
# Longer log lines are cut: one runaway line must not fill the database.
MAX_LINE = 4000
# Log lines looked through for the one that says why a job failed.
ERROR_SEARCH_LINES = 50
# A runner started ahead that no job has taken for this long is ended (it holds torch in memory).
SPARE_IDLE_SECONDS = 600.0


@dataclass
class _Run:
    """A job's subprocess and the lines it printed that are not stored yet."""

    job_id: int
    process: subprocess.Popen
    wake: threading.Event  # set once the process has ended, so the worker records it at once
    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reader: threading.Thread | None = None
    terminated_at: float | None = None  # when SIGTERM went out

    def start_reading(self) -> None:
        self.reader = threading.Thread(target=self._read, name=f"job-{self.job_id}-output", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            # A progress bar redraws its line with carriage returns: keep what it showed last.
            line = raw.rstrip("\r\n").rsplit("\r", 1)[-1][:MAX_LINE]
            with self.lock:
                self.lines.append(line)
        self.process.wait()
        self.wake.set()

    def take_lines(self) -> list[str]:
        with self.lock:
            lines, self.lines = self.lines, []
        return lines

    def signal(self, number: int) -> None:
        """Signal the job's whole process group (it runs in a session of its own)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)

    def terminate(self) -> None:
        if self.terminated_at is None:
            self.signal(signal.SIGTERM)
            self.terminated_at = time.monotonic()

    def wait(self, deadline: float) -> int:
        """The exit status, killing the job once ``deadline`` (monotonic) has passed."""
        try:
            return self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.process.wait()


class Worker:
    """Runs up to ``concurrency`` jobs at once, each in a ``python -m modelplaza.jobs.runner``
    process talking to the plaza at ``endpoint``. ``run()`` loops until ``request_stop()``;
    ``start()`` runs the loop in a background thread and ``stop()`` ends it."""

    def __init__(self, plaza: Plaza, endpoint: str, concurrency: int = 1) -> None:
        self.plaza = plaza
        self.endpoint = endpoint.rstrip("/")
        self.concurrency = max(1, concurrency)
        self.host = socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}"
        self.runs: dict[int, _Run] = {}
        self._stopping = threading.Event()
        # Set when a job is queued in this process, a job ended or a stop was requested: look now.
        self._wake = plaza.job_queued
        self._thread: threading.Thread | None = None
        self._next_heartbeat = self._next_recovery = 0.0
        self._spare: subprocess.Popen | None = None  # a runner started ahead, waiting for a job
        self._busy_at: float | None = None  # when a job last ran here (monotonic)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="plaza-job-worker", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join()

    def command(self) -> list[str]:
        """A job's process; it reads ``JOB_ID TOKEN`` from its first line of input."""
        return [sys.executable, "-m", "modelplaza.jobs.runner"]

    def run(self) -> None:
        logger.info(
            "Job worker %s: up to %d job(s) at once, against %s", self.id, self.concurrency, self.endpoint
        )
        self._guarded(lambda: self._recover(self._dead_workers_here()))
        self._next_recovery = time.monotonic() + RECOVERY_SECONDS
        while not self._stopping.is_set():
            self._wake.clear()
            self._guarded(self._tick)
            self._wake.wait(POLL_SECONDS)
        self._guarded(self._shut_down)

    @staticmethod
    def _guarded(step: Callable[[], None]) -> None:
        """The loop outlives a failing step (say, the database briefly unreachable)."""
        try:
            step()
        except Exception:
            logger.exception("Job worker: a step failed; carrying on")

    def _tick(self) -> None:
        self._watch()
        now = time.monotonic()
        if now >= self._next_heartbeat and self.runs:
            with self.plaza.db.write() as session:
                queue.heartbeat(session, self.id, list(self.runs))
            self._next_heartbeat = now + HEARTBEAT_SECONDS
        if now >= self._next_recovery:
            self._recover(set())
            self._next_recovery = now + RECOVERY_SECONDS
        while len(self.runs) < self.concurrency and not self._stopping.is_set() and self._start_next():
            pass
        self._keep_spare()

    # --- starting ------------------------------------------------------------------------------

    def _start_next(self) -> bool:
        """Start the oldest queued job; False when there is none."""
        with self.plaza.db.read() as session:  # an idle poll takes no write lock
            if not queue.has_queued(session):
                return False
        with self.plaza.db.write() as session:
            job = queue.claim_next(session, self.id)
            if job is None:
                return False
            job_id, token = job.id, job_tokens.issue(self.plaza.signer, job)
        try:
            process = self._take_spare() or self._spawn()
        except OSError as error:
            with self.plaza.db.write() as session:
                queue.finish(
                    session, session.get(Job, job_id), queue.FAILED, f"The job could not start: {error}"
                )
            return True
        # A runner that died already cannot read this; its exit and output become the job's.
        with contextlib.suppress(OSError):
            process.stdin.write(f"{job_id} {token}\n")
            process.stdin.flush()
        with contextlib.suppress(OSError):
            process.stdin.close()
        run = _Run(job_id, process, self._wake)
        run.start_reading()
        self.runs[job_id] = run
        logger.info("Job %d started (pid %d)", job_id, process.pid)
        return True

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(),
            env=self._environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )

    # --- the spare runner ------------------------------------------------------------------------

    def _take_spare(self) -> subprocess.Popen | None:
        spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is not None:  # it died waiting: start afresh
            _end(spare)
            return None
        return spare

    def _keep_spare(self) -> None:
        """Keep a runner started ahead while this worker has run a job in the last
        SPARE_IDLE_SECONDS and a job could start next (a slot is free, or jobs are queued)."""
        now = time.monotonic()
        if self.runs:
            self._busy_at = now
        idle = self._busy_at is None or now - self._busy_at >= SPARE_IDLE_SECONDS
        if self._spare is not None and idle:
            _end(self._spare)
            self._spare = None
            logger.info("Job worker %s: no jobs for a while; ended its spare runner", self.id)
        elif self._spare is None and not idle and not self._stopping.is_set() and self._may_start_soon():
            self._spare = self._spawn()

    def _may_start_soon(self) -> bool:
        if len(self.runs) < self.concurrency:
            return True
        with self.plaza.db.read() as session:
            return queue.has_queued(session)

    def _environment(self) -> dict[str, str]:
        """The plaza's environment without its own settings (a job reaches the plaza over HTTP
        only, so it needs no database URL or secret), plus the endpoint; the job's token comes
        with its id, on the process's input."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PLAZA_") and k not in ("HF_TOKEN", "HF_HUB_DISABLE_IMPLICIT_TOKEN")
        }
        return env | {
            "PLAZA_JOB_ENDPOINT": self.endpoint,
            "HF_ENDPOINT": self.endpoint,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "PYTHONUNBUFFERED": "1",
        }

    # --- watching ------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Store new output, stop jobs that were cancelled (or are no longer this worker's), and
        record the end of jobs whose process exited."""
        if not self.runs:
            return
        with self.plaza.db.read() as session:
            rows = session.execute(
                select(Job.id, Job.state, Job.worker, Job.cancel_requested).where(Job.id.in_(list(self.runs)))
            )
            status = {row.id: row for row in rows}
        for run in list(self.runs.values()):
            self._store_lines(run)
            code = run.process.poll()
            if code is not None:
                self._collect(run)
                with self.plaza.db.write() as session:
                    self._record_end(session, session.get(Job, run.job_id), code)
                continue
            row = status.get(run.job_id)
            if row is None or row.cancel_requested or row.state != queue.RUNNING or row.worker != self.id:
                run.terminate()
            if run.terminated_at is not None and time.monotonic() - run.terminated_at > GRACE_SECONDS:
                run.signal(signal.SIGKILL)

    def _store_lines(self, run: _Run) -> None:
        lines = run.take_lines()
        if not lines:
            return
        with self.plaza.db.write() as session:
            job = session.get(Job, run.job_id)
            if job is not None and self._owns(job):
                queue.add_events(session, job, [{"kind": "log", "data": {"line": line}} for line in lines])

    def _collect(self, run: _Run) -> None:
        """After the job's process exited: end anything it left behind, store its last output."""
        run.signal(signal.SIGKILL)
        if run.reader is not None:
            run.reader.join(timeout=5)
        with contextlib.suppress(OSError):
            run.process.stdout.close()  # after the reader is done with it
        self._store_lines(run)
        del self.runs[run.job_id]

    def _owns(self, job: Job) -> bool:
        return job.state == queue.RUNNING and job.worker == self.id

    def _record_end(self, session: Session, job: Job | None, code: int) -> None:
        if job is None or not self._owns(job):
            return
        if code == 0 and job.result:
            state, message = queue.SUCCEEDED, ""
        elif job.cancel_requested:
            state, message = queue.CANCELLED, job.message or "Cancelled"
        elif code == 0:
            state, message = queue.FAILED, "The job ended without recording a result"
        else:
            state, message = queue.FAILED, f"The job {_describe_exit(code)}: {_last_error(session, job)}"
        queue.finish(session, job, state, message)
        logger.info("Job %d %s%s", job.id, state, f": {message}" if message else "")

    # --- orphans and shutting down ---------------------------------------------------------------

    def _dead_workers_here(self) -> set[str]:
        """Workers of running jobs that were on this host and whose process is gone."""
        with self.plaza.db.read() as session:
            workers = set(session.scalars(select(Job.worker).where(Job.state == queue.RUNNING).distinct()))
        return {worker for worker in workers if worker and self._is_dead_here(worker)}

    def _is_dead_here(self, worker: str) -> bool:
        host, _, pid = worker.rpartition(":")
        if host != self.host or not pid.isdigit():
            return False
        if int(pid) == os.getpid():  # an earlier process that had our pid (asked before we run any job)
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, under another user
            return False
        return False

    def _recover(self, dead_workers: set[str]) -> None:
        with self.plaza.db.write() as session:
            for job in queue.recover_orphans(session, dead_workers=dead_workers):
                logger.warning("Job %d was orphaned; now %s", job.id, job.state)

    def _shut_down(self) -> None:
        """Stop every running job; one that already recorded its result and exited cleanly
        succeeds, the others go back to the queue (or fail after too many attempts)."""
        if self._spare is not None:
            _end(self._spare)
            self._spare = None
        runs = list(self.runs.values())
        for run in runs:
            run.terminate()
        deadline = time.monotonic() + GRACE_SECONDS
        codes = {run.job_id: run.wait(deadline) for run in runs}
        for run in runs:
            self._collect(run)
        with self.plaza.db.write() as session:
            for job_id, code in codes.items():
                job = session.get(Job, job_id)
                if code == 0 and job is not None and job.result:
                    self._record_end(session, job, code)
            for job in queue.recover_orphans(session, dead_workers={self.id}):
                logger.warning("Job %d was stopped with the plaza; now %s", job.id, job.state)


def local_endpoint(settings: Settings) -> str:
    """Where a process on this machine reaches the plaza that ``settings`` serve."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def _end(process: subprocess.Popen) -> None:
    """End a runner that has no job (nothing of it is worth keeping) and close its pipes."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pipe in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            pipe.close()


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def _last_error(session: Session, job: Job) -> str:
    """The runner's one-line summary of what went wrong, or failing that the last line of the
    log that is not part of a traceback's frames."""
    statement = (
        select(JobEvent.data)
        .where(JobEvent.job_id == job.id, JobEvent.kind == "log")
        .order_by(JobEvent.id.desc())
        .limit(ERROR_SEARCH_LINES)
    )
    lines = [str(data.get("line", "")) for data in session.scalars(statement)]
    for line in lines:
        if line.startswith(SUMMARY_PREFIX):
            return line[len(SUMMARY_PREFIX) :]
    for line in lines:
        if line.strip() and not line[0].isspace() and not line.startswith("Traceback"):
            return line
    return "it printed nothing"
