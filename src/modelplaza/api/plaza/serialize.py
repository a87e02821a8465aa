"""Jobs and their events in the JSON shapes of the native jobs API."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy.orm import Session

from modelplaza.db.models import Job, JobEvent
from modelplaza.http.shapes import event_json, optional_iso
from modelplaza.jobs import queue
from modelplaza.jobs.logs import log_line


def job_json(session: Session, job: Job) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "title": job.title,
        "owner": queue.owner_name(session, job),
        "spec": job.spec,
        "spec_text": job.spec_text,
        "created_at": optional_iso(job.created_at),
        "started_at": optional_iso(job.started_at),
        "finished_at": optional_iso(job.finished_at),
        "cancel_requested": job.cancel_requested,
        "message": job.message,
        "result": job.result,
        "progress": job.progress,
        "attempts": job.attempts,
    }


def sse_message(event: JobEvent) -> str:
    """One server-sent event; its id lets a reconnecting watcher resume after it."""
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event_json(event))}\n\n"


def log_text(events: Iterable[JobEvent]) -> str:
    lines = (log_line(event.kind, event.data) for event in events)
    return "".join(f"{line}\n" for line in lines if line is not None)
