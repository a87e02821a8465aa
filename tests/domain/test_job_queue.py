"""The job queue: who may start, see and stop jobs, and how workers take them."""

from __future__ import annotations

import pytest

from modelplaza.errors import Conflict, Forbidden, InvalidCredentials, NotFound
from tests.domain.conftest import ANONYMOUS, training_spec


@pytest.fixture
def alice(hub):
    return hub.as_user("alice")


def test_workers_take_the_oldest_job_first_and_each_job_once(hub, alice):
    first, second = hub.submit_job(alice, "first"), hub.submit_job(alice, "second")
    assert hub.claim("worker-a") == first
    assert hub.claim("worker-b") == second
    assert hub.claim("worker-a") is None
    assert hub.job(alice, first).state == "running"


def test_a_queued_job_is_cancelled_at_once_and_never_claimed(hub, alice):
    job = hub.submit_job(alice)
    hub.cancel(alice, job)
    assert hub.job(alice, job).state == "cancelled"
    assert hub.claim("worker") is None


def test_a_running_job_is_asked_to_stop_and_a_finished_one_cannot_be_cancelled(hub, alice):
    job = hub.submit_job(alice)
    hub.claim("worker")
    hub.cancel(alice, job)
    stopping = hub.job(alice, job)
    assert stopping.state == "running" and stopping.cancel_requested  # its worker stops it
    hub.finish(job, "cancelled")
    with pytest.raises(Conflict):
        hub.cancel(alice, job)


def test_jobs_are_seen_only_by_their_owner_and_site_admins(hub, alice):
    job = hub.submit_job(alice)
    assert hub.job(hub.as_user("root"), job).id == job
    for outsider in (hub.as_user("bob"), ANONYMOUS):
        with pytest.raises(NotFound):
            hub.job(outsider, job)
    with pytest.raises(NotFound):
        hub.cancel(hub.as_user("bob"), job)


def test_starting_a_job_takes_a_write_token(hub):
    with pytest.raises(Forbidden):
        hub.submit_job(hub.as_user("alice", write=False))


def test_a_jobs_token_acts_for_its_owner_only_while_it_runs(hub, alice):
    job = hub.submit_job(alice, spec=training_spec("alice/digits", "alice/trained"))
    hub.claim("worker")
    token = hub.job_token(job)
    as_job = hub.principal(token)
    assert as_job.name == "alice"
    hub.create_repo(as_job, "alice/trained")  # a job writes its output as its owner
    with pytest.raises(Forbidden):
        hub.submit_job(as_job)  # but people start jobs, not jobs
    with pytest.raises(Forbidden):
        hub.cancel(as_job, job)
    hub.finish(job, "succeeded")
    with pytest.raises(InvalidCredentials):
        hub.principal(token)
