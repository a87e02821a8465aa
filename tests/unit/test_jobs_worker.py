"""The worker loop against a real database: in-process with a fake executor (starting,
cancelling, killing after the grace period, orphans told by stale heartbeats), and with the
local process executor running small scripts that stand in for jobs (output becomes log
events, exits become honest endings, cancelling stops the process, stopping the worker
re-queues its jobs, a worker that has run a job starts the next one's process ahead). Also the
job-kind registry and the runner's reporter, which throttles step metrics."""

from __future__ import annotations

import json
import math
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
from modelplaza.errors import BadRequest
from modelplaza.jobs import context, kinds, queue, worker
from modelplaza.jobs.context import SUMMARY_PREFIX, Reporter
from modelplaza.jobs.executors import CouldNotStart, Executor, Exit
from modelplaza.jobs.executors import local as local_executor
from modelplaza.jobs.executors.local import LocalProcessExecutor
from modelplaza.jobs.worker import Worker
from modelplaza.plaza import Plaza

SLEEP_FOREVER = "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.1)"


class ScriptExecutor(LocalProcessExecutor):
    """Runs a Python snippet per job instead of the real runner: like the runner, the process
    reads ``JOB_ID TOKEN`` from its input, then runs that job's snippet (which sees ``token``),
    looked up in a file then, so that a process started ahead runs snippets added later."""

    def __init__(self, plaza: Plaza, scripts: dict[int, str]) -> None:
        super().__init__("http://127.0.0.1:9", kinds.runners(), plaza.job_queued.set)
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


def script_worker(plaza: Plaza, scripts: dict[int, str], concurrency: int = 2) -> Worker:
    return Worker(plaza, "unused", concurrency, ScriptExecutor(plaza, scripts))


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
    """Start a worker running scripts over {job id: script}; stopped at the end of the test."""
    started: list[Worker] = []

    def start(scripts: dict[int, str]) -> Worker:
        loop = script_worker(plaza, scripts)
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
    loop = script_worker(plaza, {job_id: SLEEP_FOREVER})
    loop.start()
    wait_for(lambda: "ready" in log_lines(plaza, job_id))
    process = loop.executor.processes[job_id].process
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
    executor = ScriptExecutor(plaza, {first: PID})
    loop = Worker(plaza, "unused", 1, executor)
    assert executor.spare is None  # an executor that never ran a job keeps no process waiting
    loop.start()
    try:
        wait_state(plaza, first, queue.FAILED)  # a snippet records no result
        spare = wait_for(lambda: executor.spare)
        second = first + 1
        executor.add(second, PID)
        assert submit(plaza) == second
        wait_state(plaza, second, queue.FAILED)
        # The second job ran in the process started ahead, which had not run the first.
        assert log_lines(plaza, second) == [str(spare.pid)] != log_lines(plaza, first)
        replacement = wait_for(lambda: executor.spare)
        monkeypatch.setattr(local_executor, "SPARE_IDLE_SECONDS", 0.0)
        wait_for(lambda: executor.spare is None)
        assert replacement.poll() is not None
    finally:
        loop.stop()


def test_a_job_queued_in_the_same_process_starts_without_waiting_for_the_next_look(plaza, monkeypatch):
    monkeypatch.setattr(worker, "POLL_SECONDS", 60.0)
    loop = script_worker(plaza, {1: "print('started')"})
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
    loop = script_worker(plaza, {job_id: "pass"})
    loop.start()
    wait_state(plaza, job_id, queue.FAILED)
    spare = wait_for(lambda: loop.executor.spare)
    loop.stop()
    assert spare.poll() is not None and loop.executor.spare is None


class FakeExecutor(Executor):
    """Jobs that run until the test ends them (``end``) and print what it gives them
    (``print``); what the worker asked of it is in ``calls``."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.exits: dict[int, Exit | None] = {}
        self.lines: dict[int, list[str]] = {}
        self.tokens: dict[int, str] = {}
        self.calls: list[tuple[str, int]] = []

    def start(self, job_id: int, token: str) -> None:
        if self.refuse:
            raise CouldNotStart(self.refuse)
        self.calls.append(("start", job_id))
        self.exits[job_id], self.lines[job_id], self.tokens[job_id] = None, [], token

    def poll(self, job_id: int) -> Exit | None:
        return self.exits[job_id]

    def output(self, job_id: int) -> list[str]:
        lines, self.lines[job_id] = self.lines[job_id], []
        return lines

    def cancel(self, job_id: int) -> None:
        self.calls.append(("cancel", job_id))

    def kill(self, job_id: int) -> None:
        self.calls.append(("kill", job_id))
        self.end(job_id, Exit(False, "was killed by SIGKILL"))

    def release(self, job_id: int) -> None:
        self.calls.append(("release", job_id))
        del self.exits[job_id], self.lines[job_id]

    def print(self, job_id: int, *lines: str) -> None:
        self.lines[job_id].extend(lines)

    def end(self, job_id: int, ended: Exit) -> None:
        self.exits[job_id] = ended


CLEAN = Exit(True, "exited with code 0")


def cancel(plaza: Plaza, job_id: int) -> None:
    with plaza.db.write() as session:
        alice = principal_for(session, get_user(session, "alice"), write=True)
        queue.request_cancel(session, alice, session.get(Job, job_id))


def test_a_fake_executor_runs_a_job_to_success_in_process(plaza):
    job_id = submit(plaza)
    executor = FakeExecutor()
    loop = Worker(plaza, "unused", 1, executor)
    loop.tick()
    assert executor.calls == [("start", job_id)] and executor.tokens[job_id].startswith("plzjob_")
    assert job(plaza, job_id).state == queue.RUNNING and job(plaza, job_id).worker == loop.id
    executor.print(job_id, "epoch 1", "x" * 5000)
    loop.tick()
    assert log_lines(plaza, job_id) == ["epoch 1", "x" * worker.MAX_LINE]
    with plaza.db.write() as session:
        queue.set_result(session, session.get(Job, job_id), {"repo": "alice/m"})
    executor.print(job_id, "last words")
    executor.end(job_id, CLEAN)
    loop.tick()
    assert job(plaza, job_id).state == queue.SUCCEEDED
    assert log_lines(plaza, job_id)[-1] == "last words"  # stored before the ending
    assert executor.calls[-1] == ("release", job_id) and loop.runs == {}


def test_a_failed_exit_is_described_and_a_job_that_cannot_start_fails(plaza):
    crashed = submit(plaza)
    executor = FakeExecutor()
    loop = Worker(plaza, "unused", 1, executor)
    loop.tick()
    executor.print(crashed, "Traceback (most recent call last):", "  File 'x.py'", "KeyError: 'label'")
    executor.end(crashed, Exit(False, "exited with code 1"))
    loop.tick()
    assert job(plaza, crashed).message == "The job exited with code 1: KeyError: 'label'"
    refused = submit(plaza)
    Worker(plaza, "unused", 1, FakeExecutor(refuse="no room on the cluster")).tick()
    assert job(plaza, refused).state == queue.FAILED
    assert job(plaza, refused).message == "The job could not start: no room on the cluster"


def test_cancelling_asks_the_executor_then_kills_after_the_grace_period(plaza, monkeypatch):
    job_id = submit(plaza)
    executor = FakeExecutor()
    loop = Worker(plaza, "unused", 1, executor)
    loop.tick()
    cancel(plaza, job_id)
    loop.tick()
    loop.tick()
    assert executor.calls == [("start", job_id), ("cancel", job_id), ("cancel", job_id)]
    monkeypatch.setattr(worker, "GRACE_SECONDS", 0.0)
    loop.tick()  # the grace period is over: killed, and the next look records the end
    assert ("kill", job_id) in executor.calls
    loop.tick()
    ended = job(plaza, job_id)
    assert ended.state == queue.CANCELLED and ended.message == "Cancelled by alice"


def test_stopping_the_worker_stops_and_requeues_its_jobs(plaza, monkeypatch):
    monkeypatch.setattr(worker, "GRACE_SECONDS", 0.1)
    stubborn, done = submit(plaza), submit(plaza)
    executor = FakeExecutor()
    loop = Worker(plaza, "unused", 2, executor)
    loop.tick()
    with plaza.db.write() as session:
        queue.set_result(session, session.get(Job, done), {"repo": "alice/m"})
    executor.end(done, CLEAN)  # ends as the worker stops: it keeps its success
    loop.request_stop()
    loop.run()
    assert ("cancel", stubborn) in executor.calls and ("kill", stubborn) in executor.calls
    assert job(plaza, done).state == queue.SUCCEEDED
    requeued = job(plaza, stubborn)
    assert requeued.state == queue.QUEUED and requeued.worker is None


def age_heartbeat(plaza: Plaza, job_id: int) -> None:
    with plaza.db.write() as session:
        session.get(Job, job_id).heartbeat_at = utcnow() - queue.HEARTBEAT_TIMEOUT - timedelta(seconds=1)


def test_a_silent_workers_job_is_requeued_then_failed_with_the_reason(plaza):
    """Liveness is the heartbeat: a worker that died stops beating, and the next worker to look
    puts its job back in the queue; the second time, the job fails for good, saying why."""
    job_id = submit(plaza)
    first = Worker(plaza, "unused", 1, FakeExecutor())
    first.id = "host-a:100"
    first.tick()  # claims the job, then "dies": it never looks again
    age_heartbeat(plaza, job_id)
    second = Worker(plaza, "unused", 1, FakeExecutor())
    second.id = "host-b:200"
    second.request_stop()
    second.run()  # recovers orphans as it starts
    requeued = job(plaza, job_id)
    assert requeued.state == queue.QUEUED and requeued.attempts == 1
    with plaza.db.read() as session:
        last = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
        ).first()
    assert last.data["message"].startswith("Re-queued: its worker host-a:100 stopped while it ran")
    third = Worker(plaza, "unused", 1, FakeExecutor())
    third.id = "host-c:300"
    third.tick()  # runs it a second time, then dies too
    age_heartbeat(plaza, job_id)
    Worker(plaza, "unused", 1, FakeExecutor())._recover()
    failed = job(plaza, job_id)
    assert failed.state == queue.FAILED and failed.message == (
        "Failed after 2 attempts: its worker host-c:300 stopped while it ran "
        "(the plaza was restarted or the worker died)"
    )


def test_a_worker_that_beats_keeps_its_job_and_stops_one_taken_from_it(plaza, monkeypatch):
    monkeypatch.setattr(worker, "HEARTBEAT_SECONDS", 0.0)
    kept, taken = submit(plaza), submit(plaza)
    executor = FakeExecutor()
    loop = Worker(plaza, "unused", 2, executor)
    loop.tick()
    age_heartbeat(plaza, kept)
    loop.tick()  # its heartbeat is fresh again
    with plaza.db.write() as session:
        assert queue.recover_orphans(session) == []
        session.get(Job, taken).worker = "elsewhere:1"  # recovered and claimed by another worker
    loop.tick()
    assert ("cancel", taken) in executor.calls and ("cancel", kept) not in executor.calls


def test_the_registry_declares_each_kind_once():
    train = kinds.get("train")
    assert kinds.runners() == {"train": "modelplaza.train.job"}
    with pytest.raises(BadRequest, match="Unknown job kind 'evaluate': choose one of train"):
        kinds.get("evaluate")
    assert kinds.register(train) is train  # importing its module again is harmless
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(kinds.JobKind("train", train.check, train.repos, "elsewhere", train.page))
    page = kinds.page("train")
    assert page.total_epochs({"training": {"epochs": 7}}) == 7
    assert page.scores({"test_accuracy": 0.9, "loss": 0.1}) == {"accuracy": 0.9}
    link = page.result_link({"repo": "alice/m", "commit": "c" * 40})
    assert (link.href, link.text) == (f"/alice/m/card/{'c' * 40}", f"alice/m @ {'c' * 10}")
    assert kinds.page("retired-kind") is kinds.UNKNOWN_KIND_PAGE


def test_the_job_runner_imports_no_database_storage_or_hub_module():
    probe = (
        "import sys, modelplaza.jobs.runner\n"
        "print([m for m in sys.modules if m.split('.')[:2] in "
        "(['modelplaza', 'db'], ['modelplaza', 'storage'], ['modelplaza', 'hub']) or m == 'sqlalchemy'])"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


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
