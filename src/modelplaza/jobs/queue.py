"""The queue: submitting, claiming, finishing and cancelling jobs, and the events they report.
Every state change goes through here, so a job's history is always told by its events."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelplaza.auth.permissions import Action, require, visible_job_owner
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.db.models import Account, Job, JobEvent, utcnow
from modelplaza.db.session import rows_matched
from modelplaza.errors import BadRequest, Conflict, JobNotFound

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
EVENT_KINDS = ("metrics", "log", "state")
# A job whose worker stopped saying it is alive for this long is an orphan.
HEARTBEAT_TIMEOUT = timedelta(seconds=60)
# An orphan goes back to the queue this many times before it is failed for good.
MAX_ATTEMPTS = 2


def submit(session: Session, principal: Principal, kind: str, spec: dict, spec_text: str, title: str) -> Job:
    """Queue a job whose spec its kind has checked (``jobs.submission``)."""
    owner = require(principal, Action.SUBMIT_JOB)
    job = Job(
        kind=kind,
        state=QUEUED,
        owner_id=owner.user_id,
        title=title[:200] or kind,
        spec=spec,
        spec_text=spec_text,
        cancel_requested=False,
        attempts=0,
        message="",
        result={},
        progress={},
    )
    session.add(job)
    session.flush()
    _event(session, job, "state", {"state": QUEUED})
    return job


def get_visible(session: Session, principal: Principal, job_id: int) -> Job:
    """The job if ``principal`` may see it; JobNotFound otherwise (as for private repos)."""
    job = session.get(Job, job_id)
    if job is None:
        raise JobNotFound(f"Job {job_id} not found")
    require(principal, Action.READ_JOB, job)
    return job


def list_jobs(
    session: Session, principal: Authenticated, *, state: str | None = None, limit: int = 50, offset: int = 0
) -> list[Job]:
    """The jobs ``principal`` may see, newest first."""
    if state is not None and state not in STATES:
        raise BadRequest(f"Unknown job state {state!r}: choose one of {', '.join(STATES)}")
    statement = select(Job).order_by(Job.id.desc())
    owner_id = visible_job_owner(principal)
    if owner_id is not None:
        statement = statement.where(Job.owner_id == owner_id)
    if state:
        statement = statement.where(Job.state == state)
    return list(session.scalars(statement.offset(offset).limit(limit)))


def owner_name(session: Session, job: Job) -> str:
    return session.get_one(Account, job.owner_id).name


def claim_next(session: Session, worker: str) -> Job | None:
    """Take the oldest queued job for ``worker``; None when the queue is empty. Safe with
    several workers: the state moves from queued to running in one conditional update."""
    for job_id in session.scalars(select(Job.id).where(Job.state == QUEUED).order_by(Job.id).limit(5)):
        now = utcnow()
        claim = (
            update(Job)
            .where(Job.id == job_id, Job.state == QUEUED)
            .values(state=RUNNING, worker=worker, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1)
        )
        if rows_matched(session, claim) == 1:
            job = session.get_one(Job, job_id, populate_existing=True)
            _event(session, job, "state", {"state": RUNNING, "worker": worker})
            return job
    return None


def heartbeat(session: Session, worker: str, job_ids: list[int]) -> None:
    if job_ids:
        session.execute(
            update(Job).where(Job.id.in_(job_ids), Job.worker == worker).values(heartbeat_at=utcnow())
        )


def finish(session: Session, job: Job, state: str, message: str = "") -> None:
    """Record how a job ended; a job that already ended keeps its first ending."""
    if state not in FINISHED:
        raise ValueError(f"{state!r} is not a final state")
    if job.state in FINISHED:
        return
    job.state = state
    job.message = message
    job.finished_at = utcnow()
    _event(session, job, "state", {"state": state, "message": message})


def request_cancel(session: Session, principal: Principal, job: Job) -> None:
    """A queued job is cancelled at once; a running one is stopped by its worker."""
    person = require(principal, Action.CANCEL_JOB, job)
    if job.state in FINISHED:
        raise Conflict(f"Job {job.id} has already {job.state}")
    if job.state == QUEUED:
        finish(session, job, CANCELLED, f"Cancelled by {person.name} before it started")
        return
    job.cancel_requested = True
    job.message = f"Cancelled by {person.name}"  # what the worker records once the job stops
    _event(session, job, "log", {"line": f"Cancellation requested by {person.name}"})


def recover_orphans(
    session: Session, now: datetime | None = None, *, dead_workers: Collection[str] = frozenset()
) -> list[Job]:
    """Running jobs whose worker is gone (named in ``dead_workers``, or silent for longer than
    HEARTBEAT_TIMEOUT): back to the queue while attempts remain, else failed. Says why."""
    now = now or utcnow()
    stale = now - HEARTBEAT_TIMEOUT
    orphans = [
        job
        for job in session.scalars(select(Job).where(Job.state == RUNNING))
        if job.worker in dead_workers or job.heartbeat_at is None or job.heartbeat_at < stale
    ]
    for job in orphans:
        reason = f"its worker {job.worker} stopped while it ran (the plaza was restarted or the worker died)"
        if job.cancel_requested:
            finish(session, job, CANCELLED, f"Cancelled; {reason}")
        elif job.attempts < MAX_ATTEMPTS:
            job.state, job.worker, job.heartbeat_at = QUEUED, None, None
            _event(session, job, "state", {"state": QUEUED, "message": f"Re-queued: {reason}"})
        else:
            finish(session, job, FAILED, f"Failed after {job.attempts} attempts: {reason}")
    return orphans


def add_events(session: Session, job: Job, events: list[dict]) -> None:
    """Metrics and log lines a running job reports; the newest metrics become its progress."""
    if job.state != RUNNING:
        raise Conflict(f"Job {job.id} is {job.state}: it no longer takes reports")
    for event in events:
        kind, data = event.get("kind"), event.get("data")
        if kind not in ("metrics", "log") or not isinstance(data, dict):
            raise BadRequest("Each event needs a 'kind' (metrics or log) and a 'data' object")
        _event(session, job, kind, data)
        if kind == "metrics":
            job.progress = {**job.progress, **data}


def set_result(session: Session, job: Job, result: dict) -> None:
    if job.state != RUNNING:
        raise Conflict(f"Job {job.id} is {job.state}: it no longer takes results")
    job.result = result


def events_after(session: Session, job: Job, after: int = 0, limit: int = 1000) -> list[JobEvent]:
    statement = select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.id > after).order_by(JobEvent.id)
    return list(session.scalars(statement.limit(limit)))


def all_events(session: Session, job: Job) -> Iterator[JobEvent]:
    """Every event of ``job`` in order, read a page at a time."""
    after = 0
    while found := events_after(session, job, after):
        yield from found
        after = found[-1].id


def has_queued(session: Session) -> bool:
    return session.scalar(select(Job.id).where(Job.state == QUEUED).limit(1)) is not None


def _event(session: Session, job: Job, kind: str, data: dict) -> None:
    session.add(JobEvent(job_id=job.id, kind=kind, data=data))
