"""The worker loop: claims queued jobs, has its executor run each one (``executors``; by default
a process of its own on this host), stores what a job prints as log events, keeps the jobs'
heartbeats, stops cancelled jobs and records how each one ended.

Whether a worker is alive is told by those heartbeats alone: a job whose heartbeat went stale
is an orphan, which ``queue.recover_orphans`` puts back in the queue (or fails, after too many
attempts) and says why. Stopping the worker (the plaza shutting down) stops its running jobs
and puts them back at once. A job starts from scratch when it runs again; training is
reproducible, so that gives the same model."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.auth import job_tokens
from modelplaza.auth.signing import Signer
from modelplaza.config import Settings
from modelplaza.db.models import Job, JobEvent
from modelplaza.jobs import kinds, queue
from modelplaza.jobs.context import SUMMARY_PREFIX
from modelplaza.jobs.executors import CouldNotStart, Executor, Exit
from modelplaza.jobs.executors.local import LocalProcessExecutor
from modelplaza.plaza import Plaza

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 5.0
# How often jobs of workers that went silent are looked for.
RECOVERY_SECONDS = 30.0
# Seconds a job has to stop once cancelled before it is killed.
GRACE_SECONDS = 10.0
# How long a killed job's ending is waited for when the worker stops.
KILL_WAIT_SECONDS = 10.0
# Longer log lines are cut: one runaway line must not fill the database.
MAX_LINE = 4000
# Log lines looked through for the one that says why a job failed.
ERROR_SEARCH_LINES = 50


def job_token(signer: Signer, job: Job) -> str:
    """The token ``job`` runs with: it reaches the repos its kind says its spec names."""
    return job_tokens.issue(signer, job, kinds.repos_of(job.kind, job.spec))


def claim(plaza: Plaza, worker_id: str) -> tuple[int, str] | None:
    """The oldest queued job, now running on ``worker_id``, with its token; None when there is
    none."""
    with plaza.db.write() as session:
        job = queue.claim_next(session, worker_id)
        return None if job is None else (job.id, job_token(plaza.signer, job))


@dataclass
class _Run:
    """A job this worker has running, and when it was asked to stop (monotonic)."""

    job_id: int
    cancelled_at: float | None = None


class Worker:
    """Runs up to ``concurrency`` jobs at once with ``executor``; by default each in a local
    ``python -m modelplaza.jobs.runner`` process talking to the plaza at ``endpoint``.
    ``run()`` loops until ``request_stop()``; ``start()`` runs the loop in a background thread
    and ``stop()`` ends it."""

    def __init__(
        self, plaza: Plaza, endpoint: str, concurrency: int = 1, executor: Executor | None = None
    ) -> None:
        self.plaza = plaza
        self.concurrency = max(1, concurrency)
        self.id = f"{socket.gethostname()}:{os.getpid()}"
        self.runs: dict[int, _Run] = {}
        self._stopping = threading.Event()
        # Set when a job is queued in this process, a job ended or a stop was requested: look now.
        self._wake = plaza.job_queued
        self.executor = executor or LocalProcessExecutor(endpoint, kinds.runners(), self._wake.set)
        self._thread: threading.Thread | None = None
        self._next_heartbeat = self._next_recovery = 0.0

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

    def run(self) -> None:
        logger.info("Job worker %s: up to %d job(s) at once", self.id, self.concurrency)
        self._guarded(self._recover)  # jobs of workers that died (their heartbeats went stale)
        self._next_recovery = time.monotonic() + RECOVERY_SECONDS
        while not self._stopping.is_set():
            self._wake.clear()
            self._guarded(self.tick)
            self._wake.wait(POLL_SECONDS)
        self._guarded(self._shut_down)

    @staticmethod
    def _guarded(step: Callable[[], None]) -> None:
        """The loop outlives a failing step (say, the database briefly unreachable)."""
        try:
            step()
        except Exception:
            logger.exception("Job worker: a step failed; carrying on")

    def tick(self) -> None:
        """One look: watch the running jobs, beat their hearts, recover orphans now and then and
        start queued jobs while there is room. ``run()`` repeats it."""
        self._watch()
        now = time.monotonic()
        if now >= self._next_heartbeat and self.runs:
            with self.plaza.db.write() as session:
                queue.heartbeat(session, self.id, list(self.runs))
            self._next_heartbeat = now + HEARTBEAT_SECONDS
        if now >= self._next_recovery:
            self._recover()
            self._next_recovery = now + RECOVERY_SECONDS
        while len(self.runs) < self.concurrency and not self._stopping.is_set() and self._start_next():
            pass
        self.executor.keep_ready(lambda: not self._stopping.is_set() and self._may_start_soon())

    def _may_start_soon(self) -> bool:
        if len(self.runs) < self.concurrency:
            return True
        with self.plaza.db.read() as session:
            return queue.has_queued(session)

    # --- starting ------------------------------------------------------------------------------

    def _start_next(self) -> bool:
        """Start the oldest queued job; False when there is none."""
        with self.plaza.db.read() as session:  # an idle poll takes no write lock
            if not queue.has_queued(session):
                return False
        claimed = claim(self.plaza, self.id)
        if claimed is None:
            return False
        job_id, token = claimed
        try:
            self.executor.start(job_id, token)
        except CouldNotStart as error:
            with self.plaza.db.write() as session:
                queue.finish(
                    session, session.get_one(Job, job_id), queue.FAILED, f"The job could not start: {error}"
                )
            return True
        self.runs[job_id] = _Run(job_id)
        return True

    # --- watching ------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Store new output, stop jobs that were cancelled (or are no longer this worker's), and
        record the end of jobs that ended."""
        if not self.runs:
            return
        with self.plaza.db.read() as session:
            rows = session.execute(
                select(Job.id, Job.state, Job.worker, Job.cancel_requested).where(Job.id.in_(list(self.runs)))
            )
            status = {row.id: row for row in rows}
        for run in list(self.runs.values()):
            self._store_output(run.job_id)
            ended = self.executor.poll(run.job_id)
            if ended is not None:
                self._finish(run.job_id, ended)
                continue
            row = status.get(run.job_id)
            if row is None or row.cancel_requested or row.state != queue.RUNNING or row.worker != self.id:
                self._cancel(run)
            if run.cancelled_at is not None and time.monotonic() - run.cancelled_at > GRACE_SECONDS:
                self.executor.kill(run.job_id)

    def _cancel(self, run: _Run) -> None:
        self.executor.cancel(run.job_id)
        if run.cancelled_at is None:
            run.cancelled_at = time.monotonic()

    def _store_output(self, job_id: int) -> None:
        lines = [line[:MAX_LINE] for line in self.executor.output(job_id)]
        if not lines:
            return
        with self.plaza.db.write() as session:
            job = session.get(Job, job_id)
            if job is not None and self._owns(job):
                queue.add_events(session, job, [{"kind": "log", "data": {"line": line}} for line in lines])

    def _finish(self, job_id: int, ended: Exit) -> None:
        """After the job ended: store its last output, then how it ended."""
        self._store_output(job_id)
        self.executor.release(job_id)
        del self.runs[job_id]
        with self.plaza.db.write() as session:
            self._record_end(session, session.get(Job, job_id), ended)

    def _owns(self, job: Job) -> bool:
        return job.state == queue.RUNNING and job.worker == self.id

    def _record_end(self, session: Session, job: Job | None, ended: Exit) -> None:
        if job is None or not self._owns(job):
            return
        if ended.clean and job.result:
            state, message = queue.SUCCEEDED, ""
        elif job.cancel_requested:
            state, message = queue.CANCELLED, job.message or "Cancelled"
        elif ended.clean:
            state, message = queue.FAILED, "The job ended without recording a result"
        else:
            state, message = queue.FAILED, f"The job {ended.description}: {_last_error(session, job)}"
        queue.finish(session, job, state, message)
        logger.info("Job %d %s%s", job.id, state, f": {message}" if message else "")

    # --- orphans and shutting down ---------------------------------------------------------------

    def _recover(self) -> None:
        with self.plaza.db.write() as session:
            for job in queue.recover_orphans(session):
                logger.warning("Job %d was orphaned; now %s", job.id, job.state)

    def _shut_down(self) -> None:
        """Stop every running job; one that already recorded its result and exited cleanly
        succeeds, the others go back to the queue (or fail after too many attempts)."""
        self.executor.close()
        for run in self.runs.values():
            self._cancel(run)
        endings = self._wait_for_ends(time.monotonic() + GRACE_SECONDS)
        for job_id in set(self.runs) - set(endings):
            self.executor.kill(job_id)
        endings |= self._wait_for_ends(time.monotonic() + KILL_WAIT_SECONDS)
        for job_id in self.runs:
            self._store_output(job_id)
        with self.plaza.db.write() as session:
            for job_id, ended in endings.items():
                job = session.get(Job, job_id)
                if ended.clean and job is not None and job.result:
                    self._record_end(session, job, ended)
        for job_id in endings:
            self.executor.release(job_id)
        self.runs.clear()
        with self.plaza.db.write() as session:
            for job in queue.recover_orphans(session, dead_workers={self.id}):
                logger.warning("Job %d was stopped with the plaza; now %s", job.id, job.state)

    def _wait_for_ends(self, deadline: float) -> dict[int, Exit]:
        """How the running jobs that end before ``deadline`` (monotonic) ended."""
        endings: dict[int, Exit] = {}
        while True:
            for job_id in set(self.runs) - set(endings):
                if (ended := self.executor.poll(job_id)) is not None:
                    endings[job_id] = ended
            if len(endings) == len(self.runs) or time.monotonic() >= deadline:
                return endings
            time.sleep(0.05)


def local_endpoint(settings: Settings) -> str:
    """Where a process on this machine reaches the plaza that ``settings`` serve."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


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
