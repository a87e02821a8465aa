"""Submitting a job of any kind: its kind checks the spec against the plaza, reading only, and
a short write transaction then queues it (no file is read while the database is locked)."""

from __future__ import annotations

from modelplaza.auth.permissions import Action, require
from modelplaza.auth.principal import Principal
from modelplaza.jobs import kinds, queue
from modelplaza.plaza import Plaza


def submit_job(plaza: Plaza, principal: Principal, kind_name: str, spec_text: str) -> int:
    """Queue the job and wake a worker in this process; the new job's id. Raises what the
    kind's check raises for a spec that cannot run, and BadRequest for an unknown kind."""
    kind = kinds.get(kind_name)
    require(principal, Action.SUBMIT_JOB)  # before any spec is read
    with plaza.db.read() as session:
        submission = kind.check(session, plaza.contents, principal, spec_text)
    with plaza.db.write() as session:
        job = queue.submit(
            session, principal, kind.name, submission.spec, submission.spec_text, submission.title
        )
        job_id = job.id
    plaza.job_queued.set()  # committed: a worker can claim it now
    return job_id
