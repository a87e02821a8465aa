"""JSON shapes that both faces send: times as the Hub writes them, and a job's events (the jobs
API returns them; the job pages stream them to their live curves)."""

from __future__ import annotations

from datetime import datetime

from modelplaza.db.models import JobEvent


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def optional_iso(when: datetime | None) -> str | None:
    return iso(when) if when is not None else None


def event_json(event: JobEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "data": event.data,
        "created_at": optional_iso(event.created_at),
    }
