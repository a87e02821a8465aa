"""A running job's reports through the jobs API: only the job's own token may send them, and
that token dies with the job. The job is claimed here as a worker would claim it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from modelplaza.api.plaza import jobs as jobs_api
from modelplaza.app import create_app
from modelplaza.auth import accounts
from modelplaza.config import Settings
from modelplaza.db.models import Job
from modelplaza.jobs import queue, worker
from modelplaza.plaza import Plaza


@pytest.fixture
def plaza(tmp_path) -> Iterator[Plaza]:
    plaza = Plaza(Settings(data_dir=tmp_path, embedded_worker=False)).migrate()
    with plaza.db.write() as session:
        for name in ("alice", "bob"):
            accounts.create_user(session, name)
    yield plaza
    plaza.close()


@pytest.fixture
def http(plaza) -> Iterator[TestClient]:
    with TestClient(create_app(plaza)) as client:
        yield client


def user_token(plaza: Plaza, name: str) -> str:
    with plaza.db.write() as session:
        return accounts.create_token(session, name, "test", write=True)


def running_job(plaza: Plaza, owner: str) -> tuple[int, str]:
    """A job of ``owner``, claimed by a worker: its id and its token."""
    with plaza.db.write() as session:
        principal = accounts.principal_for(session, accounts.get_user(session, owner), write=True)
        job = queue.submit(session, principal, "train", {}, "", "a test job")
        assert queue.claim_next(session, "test-worker").id == job.id
        return job.id, worker.job_token(plaza.signer, job)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_job_reports_events_and_its_result_with_its_own_token(plaza, http):
    job_id, token = running_job(plaza, "alice")
    metrics = {"kind": "step", "epoch": 1, "step": 1, "loss": 0.5, "lr": 0.01}
    events = [{"kind": "metrics", "data": metrics}, {"kind": "log", "data": {"line": "epoch 1"}}]
    assert (
        http.post(f"/api/jobs/{job_id}/events", json={"events": events}, headers=bearer(token)).status_code
        == 204
    )
    result = {"repo": "alice/model", "commit": "0" * 40}
    assert (
        http.post(f"/api/jobs/{job_id}/result", json={"result": result}, headers=bearer(token)).status_code
        == 204
    )
    # The job reads itself with the same token (its runner needs the spec).
    job = http.get(f"/api/jobs/{job_id}", headers=bearer(token)).json()
    assert (job["state"], job["progress"], job["result"]) == ("running", metrics, result)
    logs = http.get(f"/api/jobs/{job_id}/logs", headers=bearer(user_token(plaza, "alice")))
    assert logs.text == "[queued]\n[running] on worker test-worker\nepoch 1\n"
    assert logs.headers["content-type"].startswith("text/plain")


def test_no_other_credential_may_report_for_a_job(plaza, http):
    job_id, _ = running_job(plaza, "alice")
    other_id, other_token = running_job(plaza, "alice")
    line = {"events": [{"kind": "log", "data": {"line": "forged"}}]}
    for token in (other_token, user_token(plaza, "alice"), user_token(plaza, "bob")):
        for path, body in (
            (f"/api/jobs/{job_id}/events", line),
            (f"/api/jobs/{job_id}/result", {"result": {}}),
        ):
            response = http.post(path, json=body, headers=bearer(token))
            assert response.status_code == 403
            assert response.headers["X-Error-Message"] == f"Only job {job_id}'s own token may report for it"
    assert http.post(f"/api/jobs/{job_id}/events", json=line).status_code == 403
    with plaza.db.read() as session:
        assert [e.kind for e in queue.events_after(session, session.get(Job, job_id))] == ["state", "state"]


def test_reports_are_checked(plaza, http):
    job_id, token = running_job(plaza, "alice")
    for body in (
        {"events": [{"kind": "state", "data": {"state": "succeeded"}}]},
        {"events": [{"kind": "log"}]},
    ):
        response = http.post(f"/api/jobs/{job_id}/events", json=body, headers=bearer(token))
        assert response.status_code == 400
        assert (
            "Each event needs a 'kind' (metrics or log) and a 'data' object"
            in response.headers["X-Error-Message"]
        )
    response = http.post(f"/api/jobs/{job_id}/events", json={"events": "many"}, headers=bearer(token))
    assert response.status_code == 400 and "events: Input should be a valid list" in response.json()["error"]


def test_a_job_token_stops_working_when_the_job_ends(plaza, http):
    job_id, token = running_job(plaza, "alice")
    with plaza.db.write() as session:
        queue.finish(session, session.get(Job, job_id), queue.SUCCEEDED)
    line = {"events": [{"kind": "log", "data": {"line": "too late"}}]}
    response = http.post(f"/api/jobs/{job_id}/events", json=line, headers=bearer(token))
    assert response.status_code == 401
    assert http.get(f"/api/jobs/{job_id}", headers=bearer(token)).status_code == 401


def test_a_quiet_stream_sends_keep_alives_and_ends_with_the_job(plaza, monkeypatch):
    monkeypatch.setattr(jobs_api, "KEEPALIVE_SECONDS", 0.2)
    monkeypatch.setattr(jobs_api, "POLL_SECONDS", 0.05)
    job_id, _ = running_job(plaza, "alice")
    with plaza.db.read() as session:
        alice = accounts.principal_for(session, accounts.get_user(session, "alice"), write=True)

    async def watch() -> list[str]:
        messages = []
        async for message in jobs_api._watch(plaza, alice, job_id, 0):
            messages.append(message)
            if message.startswith(":"):
                with plaza.db.write() as session:
                    queue.finish(session, session.get(Job, job_id), queue.FAILED, "out of memory")
        return messages

    messages = asyncio.run(asyncio.wait_for(watch(), timeout=10))
    kinds = [
        m.splitlines()[0] if m.startswith(":") else json.loads(m.splitlines()[2][6:])["data"]
        for m in messages
    ]
    assert kinds == [
        {"state": "queued"},
        {"state": "running", "worker": "test-worker"},
        ": keep-alive",
        {"state": "failed", "message": "out of memory"},
    ]


def test_a_job_token_cannot_start_or_stop_jobs(plaza, http):
    job_id, token = running_job(plaza, "alice")
    other_id, _ = running_job(plaza, "alice")
    recipe = "data: {dataset: alice/d, inputs: [x], label: y}\nmodel: mlp\noutput: {repo: alice/m}\n"
    submitted = http.post("/api/jobs", json={"kind": "train", "recipe": recipe}, headers=bearer(token))
    assert submitted.status_code == 403
    assert submitted.headers["X-Error-Message"] == "A job's token cannot submit or cancel jobs"
    assert http.post(f"/api/jobs/{job_id}/cancel", headers=bearer(token)).status_code == 403
    # Another job of the same owner is not there at all for this job's token.
    assert http.post(f"/api/jobs/{other_id}/cancel", headers=bearer(token)).status_code == 404
    with plaza.db.read() as session:
        assert [j.state for j in session.query(Job).order_by(Job.id)] == ["running", "running"]
        assert not any(j.cancel_requested for j in session.query(Job))
