"""The native jobs API: submit, list, follow and cancel jobs; a running job reports its events
and result here with its own token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlalchemy.orm import Session

from modelplaza.api.plaza import schemas
from modelplaza.api.plaza.serialize import job_json, log_text, sse_message
from modelplaza.api.receive import check_text
from modelplaza.api.routing import api_router
from modelplaza.auth import permissions
from modelplaza.auth.permissions import Action
from modelplaza.auth.principal import Principal
from modelplaza.db.models import LARGEST_ID, Job
from modelplaza.http.context import get_plaza
from modelplaza.http.principals import get_principal
from modelplaza.http.shapes import event_json
from modelplaza.http.threads import in_thread
from modelplaza.jobs import queue
from modelplaza.jobs.submission import submit_job
from modelplaza.plaza import Plaza

router = api_router(tags=["jobs"])
Caller = Annotated[Principal, Depends(get_principal)]
LARGEST_OFFSET = 2**63 - 1  # 64-bit in both databases
JobId = Annotated[int, Path(ge=1, le=LARGEST_ID)]
After = Annotated[int, Query(ge=0, le=LARGEST_ID, description="Only events with a greater id")]
# How often a stream looks for new events, and how long it may stay silent before a comment
# tells proxies and clients the connection is still alive.
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
STREAM_PAGE = 500
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/api/jobs", status_code=201, response_model=schemas.JobInfo)
def submit(
    request: Request,
    principal: Caller,
    recipe: Annotated[str, Body(max_length=1_000_000)],
    kind: Annotated[str, Body()] = "train",
) -> dict:
    plaza = get_plaza(request)
    job_id = submit_job(plaza, principal, kind, recipe)
    with plaza.db.read() as session:
        return job_json(session, queue.get_visible(session, principal, job_id))


@router.get("/api/jobs", response_model=list[schemas.JobInfo])
def list_jobs(
    request: Request,
    principal: Caller,
    state: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=LARGEST_OFFSET)] = 0,
) -> list[dict]:
    user = permissions.require(principal, Action.LIST_JOBS)
    with get_plaza(request).db.read() as session:
        jobs = queue.list_jobs(session, user, state=state or None, limit=limit, offset=offset)
        return [job_json(session, job) for job in jobs]


@router.get("/api/jobs/{job_id}", response_model=schemas.JobInfo)
def show(request: Request, principal: Caller, job_id: JobId) -> dict:
    with get_plaza(request).db.read() as session:
        return job_json(session, queue.get_visible(session, principal, job_id))


@router.post("/api/jobs/{job_id}/cancel", response_model=schemas.JobInfo)
def cancel(request: Request, principal: Caller, job_id: JobId) -> dict:
    with get_plaza(request).db.write() as session:
        job = queue.get_visible(session, principal, job_id)
        queue.request_cancel(session, principal, job)
        return job_json(session, job)


@router.get("/api/jobs/{job_id}/logs", response_class=PlainTextResponse)
def logs(request: Request, principal: Caller, job_id: JobId) -> str:
    with get_plaza(request).db.read() as session:
        return log_text(queue.all_events(session, queue.get_visible(session, principal, job_id)))


@router.get("/api/jobs/{job_id}/events", response_model=schemas.JobEvents)
def events(request: Request, principal: Caller, job_id: JobId, after: After = 0) -> dict:
    with get_plaza(request).db.read() as session:
        job = queue.get_visible(session, principal, job_id)
        found = queue.events_after(session, job, after)
        return {"state": job.state, "events": [event_json(event) for event in found]}


@router.get("/api/jobs/{job_id}/stream")
def stream(
    request: Request,
    principal: Caller,
    job_id: JobId,
    after: After = 0,
    last_event_id: Annotated[int | None, Header(ge=0, le=LARGEST_ID)] = None,
) -> StreamingResponse:
    """Server-sent events from ``after`` (or the Last-Event-ID a reconnecting browser sends)
    until the job's final state event."""
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        queue.get_visible(session, principal, job_id)  # a 404 now rather than an empty stream
    start = max(after, last_event_id or 0)
    return StreamingResponse(
        _watch(plaza, principal, job_id, start), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/api/jobs/{job_id}/events", status_code=204)
def report(
    request: Request,
    principal: Caller,
    job_id: JobId,
    events: Annotated[list[dict[str, Any]], Body(embed=True, max_length=1000)],
) -> Response:
    check_text(events)
    with get_plaza(request).db.write() as session:
        queue.add_events(session, _own_job(session, principal, job_id), events)
    return Response(status_code=204)


@router.post("/api/jobs/{job_id}/result", status_code=204)
def result(
    request: Request, principal: Caller, job_id: JobId, result: Annotated[dict[str, Any], Body(embed=True)]
) -> Response:
    check_text(result)
    with get_plaza(request).db.write() as session:
        queue.set_result(session, _own_job(session, principal, job_id), result)
    return Response(status_code=204)


def _own_job(session: Session, principal: Principal, job_id: int) -> Job:
    permissions.require(principal, Action.REPORT_JOB, job_id)
    return queue.get_visible(session, principal, job_id)


def _poll(plaza: Plaza, principal: Principal, job_id: int, after: int) -> tuple[str, list[str], int]:
    """The job's state, its next events after ``after`` as server-sent events, and the last id."""
    with plaza.db.read() as session:
        job = queue.get_visible(session, principal, job_id)
        found = queue.events_after(session, job, after, STREAM_PAGE)
        return job.state, [sse_message(event) for event in found], found[-1].id if found else after


async def _watch(plaza: Plaza, principal: Principal, job_id: int, after: int) -> AsyncIterator[str]:
    silent_since = time.monotonic()
    while True:
        # The state is read before the events: once it is final, the final event is among them.
        state, messages, after = await in_thread(_poll, plaza, principal, job_id, after)
        for message in messages:
            yield message
        caught_up = len(messages) < STREAM_PAGE
        if state in queue.FINISHED and caught_up:
            return
        if messages:
            silent_since = time.monotonic()
        elif time.monotonic() - silent_since >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            silent_since = time.monotonic()
        if caught_up:
            await asyncio.sleep(POLL_SECONDS)
