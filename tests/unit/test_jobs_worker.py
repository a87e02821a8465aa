"""The worker loop against a real database, with small scripts standing in for jobs: output
becomes log events, exits become honest endings, cancelling stops the process, stopping the
worker re-queues its jobs, orphans left by a dead worker are recovered at start, and a worker
that has run a job starts the next one's process ahead. Also the runner's reporter, which
throttles step metrics."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from modelplaza.auth.accounts import create_user, get_user, principal_for
from modelplaza.config import Settings
from modelplaza.db.models import Job, JobEvent, utcnow
from modelplaza.jobs import context, queue, worker
from modelplaza.jobs.context import SUMMARY_PREFIX, Reporter
from modelplaza.jobs.worker import Worker
from modelplaza.plaza import Plaza

SLEEP_FOREVER = "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.1)"


class ScriptWorker(Worker):
    """Runs a Python snippet per job instead of the real runner: like the runner, the process
    reads ``JOB_ID TOKEN`` from its input, then runs that job's snippet (which sees ``token``),
    looked up in a file then, so that a process started ahead runs snippets added later."""

    def __init__(self, plaza: Plaza, scripts: dict[int, str], concurrency: int = 2) -> None:
        super().__init__(plaza, "http://127.0.0.1:9", concurrency)
        self.scripts_file = plaza.settings.data_dir / f"scripts-{id(self)}.json"
        self.scripts: dict[int, str] = {}
        for job_id, script in scripts.items():
            self.add(job_id, script)

    def add(self, job_id: int, script: str) -> None:
        self.scripts[job_id] = textwrap.dedent(script)
        self.scripts_file.write_text(json.dumps(self.scripts))

    def command(self) -> list[str]:
        dispatch = (
            "import json, sys\n"
            "job_id, token = sys.stdin.readline().split()\n"
            f"exec(json.load(open({str(self.scripts_file)!r}))[job_id])"
        )
        return [sys.executable, "-c", dispatch]


@pytest.fixture
def plaza(tmp_path):
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'plaza.db'}", secret_key="s" * 32
    )
    plaza = Plaza(settings).migrate()
    with plaza.db.write() as session:
        create_user(session, "alice")
    yield plaza
    plaza.close()


def submit(plaza: Plaza) -> int:
    with plaza.db.write() as session:
        alice = principal_for(session, get_user(session, "alice"), write=True)
        return queue.submit(session, alice, "train", {}, "", "a job").id


def job(plaza: Plaza, job_id: int) -> Job:
    with plaza.db.read() as session:
        return session.get(Job, job_id)


def log_lines(plaza: Plaza, job_id: int) -> list[str]:
    with plaza.db.read() as session:
        events = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.kind == "log").order_by(JobEvent.id)
        )
        return [event.data["line"] for event in events]


def wait_for(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def wait_state(plaza: Plaza, job_id: int, *states: str, timeout: float = 20.0) -> Job:
    return wait_for(lambda: (found := job(plaza, job_id)).state in states and found, timeout)


@pytest.fixture
def running(plaza):
    """Start a ScriptWorker over {job id: script}; stopped at the end of the test."""
    started: list[Worker] = []

    def start(scripts: dict[int, str]) -> ScriptWorker:
        loop = ScriptWorker(plaza, scripts)
        loop.start()
        started.append(loop)
        return loop

    yield start
    for loop in started:
        loop.stop()


def test_output_is_logged_and_a_crash_fails_with_its_last_error_line(plaza, running):
    failing = submit(plaza)
    running(
        {
            failing: """
            for i in range(300):
                print(f"line {i}")
            raise ValueError("no column 'pixel_99'")
            """
        }
    )
    ended = wait_state(plaza, failing, queue.FAILED)
    assert ended.message == "The job exited with code 1: ValueError: no column 'pixel_99'"
    lines = log_lines(plaza, failing)
    assert lines[:300] == [f"line {i}" for i in range(300)]
    assert "Traceback (most recent call last):" in lines  # the traceback stays in the log
    assert "Traceback" not in ended.message


def test_the_runners_summary_line_is_the_message_and_signals_are_named(plaza, running):
    summarised, killed = submit(plaza), submit(plaza)
    running(
        {
            summarised: f"""
            import sys
            print("Traceback (most recent call last):")
            print("  File 'x.py', line 1")
            print("{SUMMARY_PREFIX}data.dataset: the dataset alice/d was not found")
            print("a warning printed afterwards", file=sys.stderr)
            sys.exit(1)
            """,
            killed: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        }
    )
    message = wait_state(plaza, summarised, queue.FAILED).message
    assert message == "The job exited with code 1: data.dataset: the dataset alice/d was not found"
    assert wait_state(plaza, killed, queue.FAILED).message.startswith("The job was killed by SIGKILL: ")


def test_a_job_succeeds_only_when_it_exits_cleanly_with_a_result(plaza, running, tmp_path):
    with_result, without = submit(plaza), submit(plaza)
    go = tmp_path / "go"
    running(
        {
            with_result: f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.05)",
            without: "print('done')",
        }
    )
    wait_state(plaza, with_result, queue.RUNNING)
    with plaza.db.write() as session:
        queue.set_result(session, session.get(Job, with_result), {"repo": "alice/m", "commit": "c" * 40})
    go.touch()
    assert wait_state(plaza, with_result, queue.SUCCEEDED).result["repo"] == "alice/m"
    ended = wait_state(plaza, without, queue.FAILED)
    assert ended.message == "The job ended without recording a result"
    assert log_lines(plaza, without) == ["done"]


def test_a_job_gets_its_own_token_and_endpoint_but_not_the_plazas_settings(plaza, running, monkeypatch):
    monkeypatch.setenv("PLAZA_DATABASE_URL", "postgresql://secret@db/plaza")
    monkeypatch.setenv("HF_TOKEN", "hf_the_plazas_own")
    job_id = submit(plaza)
    running(
        {
            job_id: """
            import os
            for name in ("PLAZA_JOB_ENDPOINT", "HF_ENDPOINT", "HF_HUB_DISABLE_TELEMETRY"):
                print(name, os.environ.get(name))
            print("token", token[:7], "HF_TOKEN" in os.environ)
            print("database", os.environ.get("PLAZA_DATABASE_URL"))
            """
        }
    )
    wait_state(plaza, job_id, queue.FAILED)
    assert log_lines(plaza, job_id) == [
        "PLAZA_JOB_ENDPOINT http://127.0.0.1:9",
        "HF_ENDPOINT http://127.0.0.1:9",
        "HF_HUB_DISABLE_TELEMETRY 1",
        "token plzjob_ False",  # the job's token comes on its input; the plaza's own stays out
        "database None",
    ]


def test_cancelling_stops_the_process_and_says_who_cancelled(plaza, running):
    job_id = submit(plaza)
    running({job_id: SLEEP_FOREVER})
    wait_for(lambda: "ready" in log_lines(plaza, job_id))
    with plaza.db.write() as session:
        alice = principal_for(session, get_user(session, "alice"), write=True)
        queue.request_cancel(session, alice, session.get(Job, job_id))
    began = time.monotonic()
    ended = wait_state(plaza, job_id, queue.CANCELLED, timeout=10)
    assert time.monotonic() - began < 5
    assert ended.message == "Cancelled by alice"


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_period(plaza, running, monkeypatch):
    monkeypatch.setattr(worker, "GRACE_SECONDS", 1.0)
    job_id = submit(plaza)
    running({job_id: "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + SLEEP_FOREVER})
    wait_for(lambda: "ready" in log_lines(plaza, job_id))
    with plaza.db.write() as session:
        alice = principal_for(session, get_user(session, "alice"), write=True)
        queue.request_cancel(session, alice, session.get(Job, job_id))
    assert wait_state(plaza, job_id, queue.CANCELLED, timeout=10).message == "Cancelled by alice"


def test_heartbeats_keep_a_running_job_alive(plaza, running, monkeypatch):
    monkeypatch.setattr(worker, "HEARTBEAT_SECONDS", 0.2)
    job_id = submit(plaza)
    running({job_id: SLEEP_FOREVER})
    first = wait_state(plaza, job_id, queue.RUNNING).heartbeat_at
    assert wait_for(lambda: job(plaza, job_id).heartbeat_at > first, timeout=5)


def test_stopping_the_worker_requeues_its_running_jobs_with_the_reason(plaza):
    job_id = submit(plaza)
    loop = ScriptWorker(plaza, {job_id: SLEEP_FOREVER})
    loop.start()
    wait_for(lambda: "ready" in log_lines(plaza, job_id))
    process = loop.runs[job_id].process
    loop.stop()
    assert process.poll() is not None
    requeued = job(plaza, job_id)
    assert requeued.state == queue.QUEUED and requeued.worker is None and requeued.attempts == 1
    with plaza.db.read() as session:
        last = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
        ).first()
    assert last.data["state"] == queue.QUEUED
    assert last.data["message"].startswith(f"Re-queued: its worker {loop.id} stopped while it ran")


PID = "import os\nprint(os.getpid())"


def test_after_a_job_the_next_ones_process_is_started_ahead_and_let_go_when_idle(plaza, monkeypatch):
    first = submit(plaza)
    loop = ScriptWorker(plaza, {first: PID}, concurrency=1)
    assert loop._spare is None  # a worker that never ran a job keeps no process waiting
    loop.start()
    try:
        wait_state(plaza, first, queue.FAILED)  # a snippet records no result
        spare = wait_for(lambda: loop._spare)
        second = first + 1
        loop.add(second, PID)
        assert submit(plaza) == second
        wait_state(plaza, second, queue.FAILED)
        # The second job ran in the process started ahead, which had not run the first.
        assert log_lines(plaza, second) == [str(spare.pid)] != log_lines(plaza, first)
        replacement = wait_for(lambda: loop._spare)
        monkeypatch.setattr(worker, "SPARE_IDLE_SECONDS", 0.0)
        wait_for(lambda: loop._spare is None)
        assert replacement.poll() is not None
    finally:
        loop.stop()


def test_a_job_queued_in_the_same_process_starts_without_waiting_for_the_next_look(plaza, monkeypatch):
    monkeypatch.setattr(worker, "POLL_SECONDS", 60.0)
    loop = ScriptWorker(plaza, {1: "print('started')"})
    loop.start()
    try:
        time.sleep(0.5)  # the worker has looked at the empty queue and waits
        assert submit(plaza) == 1
        plaza.job_queued.set()  # what the jobs API and the web form do once the job is committed
        assert wait_state(plaza, 1, queue.FAILED, timeout=10)
        assert log_lines(plaza, 1) == ["started"]
    finally:
        loop.stop()


def test_stopping_the_worker_ends_its_spare_process(plaza):
    job_id = submit(plaza)
    loop = ScriptWorker(plaza, {job_id: "pass"})
    loop.start()
    wait_state(plaza, job_id, queue.FAILED)
    spare = wait_for(lambda: loop._spare)
    loop.stop()
    assert spare.poll() is not None and loop._spare is None


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_orphans_are_recovered_when_a_worker_starts(plaza):
    """A restart: running jobs whose worker process on this host is gone go back to the queue
    (or fail after too many attempts); live workers' jobs are left alone; jobs of workers
    elsewhere are recovered only once their heartbeat is stale."""
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}"
    workers = {
        "dead here": dead,
        "dead here, tried twice": dead,
        "alive here": f"{host}:{os.getppid()}",
        "elsewhere, fresh": "elsewhere:1",
        "elsewhere, stale": "elsewhere:2",
    }
    ids = {name: submit(plaza) for name in workers}
    with plaza.db.write() as session:
        for name, worker_id in workers.items():
            claimed = queue.claim_next(session, worker_id)
            assert claimed.id == ids[name]
        session.get(Job, ids["dead here, tried twice"]).attempts = queue.MAX_ATTEMPTS
        session.get(Job, ids["elsewhere, stale"]).heartbeat_at = utcnow() - timedelta(minutes=10)
    loop = ScriptWorker(plaza, {})
    loop.request_stop()
    loop.run()  # recovers orphans at start, then stops at once without claiming anything
    states = {name: job(plaza, job_id).state for name, job_id in ids.items()}
    assert states == {
        "dead here": queue.QUEUED,
        "dead here, tried twice": queue.FAILED,
        "alive here": queue.RUNNING,
        "elsewhere, fresh": queue.RUNNING,
        "elsewhere, stale": queue.QUEUED,
    }
    failed = job(plaza, ids["dead here, tried twice"])
    assert failed.message == (
        f"Failed after 2 attempts: its worker {dead} stopped while it ran "
        "(the plaza was restarted or the worker died)"
    )


class RecordingClient:
    def __init__(self) -> None:
        self.reports: list[list[dict]] = []

    def report(self, job_id: int, events: list[dict]) -> None:
        if events:
            self.reports.append(events)


def test_the_reporter_throttles_step_metrics_but_sends_epochs_at_once(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(context.time, "monotonic", lambda: now[0])
    client = RecordingClient()
    reporter = Reporter(client, 1)
    for step in range(1, 11):  # ten steps in 0.45 s: only the first goes out at once
        reporter.metrics({"kind": "step", "epoch": 1, "step": step, "loss": 1.0 / step})
        now[0] += 0.05
    assert [event["data"]["step"] for batch in client.reports for event in batch] == [1]
    now[0] += 0.1
    reporter.metrics({"kind": "step", "epoch": 1, "step": 11, "loss": 0.05})
    reporter.metrics({"kind": "step", "epoch": 1, "step": 12, "loss": 0.04})
    reporter.metrics({"kind": "epoch", "epoch": 1, "step": 12, "train_loss": 0.3, "val_loss": math.nan})
    sent = [event["data"] for batch in client.reports for event in batch]
    assert [(record["kind"], record["step"]) for record in sent] == [
        ("step", 1),
        ("step", 11),
        ("step", 12),  # the epoch's last step, so the curve reaches it
        ("epoch", 12),
    ]
    assert sent[-1]["val_loss"] is None  # JSON has no NaN


def test_the_reporter_batches_log_lines():
    client = RecordingClient()
    reporter = Reporter(client, 1)
    reporter.log("first")  # goes out at once: nothing was sent yet
    reporter.log("second\nthird")
    assert client.reports == [[{"kind": "log", "data": {"line": "first"}}]]
    reporter.flush()
    assert client.reports[-1] == [
        {"kind": "log", "data": {"line": "second"}},
        {"kind": "log", "data": {"line": "third"}},
    ]
