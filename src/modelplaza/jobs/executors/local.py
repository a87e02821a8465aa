"""The local process executor: each job runs as ``python -m modelplaza.jobs.runner`` on this
host, in a session of its own, and what it prints (stdout and stderr) is its output.

A runner process imports torch and the training code (seconds) before it reads its job's id and
token from its input. Once the executor has run a job, it keeps one such process started ahead
whenever a job could start next, so the next job starts with its imports done; each process
still runs one job only, and an idle spare is let go after ``SPARE_IDLE_SECONDS``."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO

from modelplaza.jobs.context import ENDPOINT_VARIABLE, RUNNERS_VARIABLE
from modelplaza.jobs.executors import CouldNotStart, Executor, Exit

logger = logging.getLogger(__name__)

# A runner started ahead that no job has taken for this long is ended (it holds torch in memory).
SPARE_IDLE_SECONDS = 600.0
# How long the last of a job's output may take to arrive once its process has exited.
READER_JOIN_SECONDS = 5.0


class _Process:
    """A job's process and the lines it printed that were not taken yet."""

    def __init__(self, job_id: int, process: subprocess.Popen, on_exit: Callable[[], None]) -> None:
        self.job_id = job_id
        self.process = process
        self.stdout = _pipes(process)[1]
        self.on_exit = on_exit
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.terminated = False
        self.exit: Exit | None = None
        self.reader = threading.Thread(target=self._read, name=f"job-{job_id}-output", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.stdout:
            # A progress bar redraws its line with carriage returns: keep what it showed last.
            line = raw.rstrip("\r\n").rsplit("\r", 1)[-1]
            with self.lock:
                self.lines.append(line)
        self.process.wait()
        self.on_exit()

    def take_lines(self) -> list[str]:
        with self.lock:
            lines, self.lines = self.lines, []
        return lines

    def signal(self, number: int) -> None:
        """Signal the job's whole process group (it runs in a session of its own)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)

    def poll(self) -> Exit | None:
        if self.exit is None and (code := self.process.poll()) is not None:
            self.signal(signal.SIGKILL)  # whatever it left behind
            self.reader.join(timeout=READER_JOIN_SECONDS)
            with contextlib.suppress(OSError):
                self.stdout.close()  # after the reader is done with it
            self.exit = Exit(code == 0, describe_exit(code))
        return self.exit


class LocalProcessExecutor(Executor):
    """Runs jobs as processes here, talking to the plaza at ``endpoint``; ``runners`` names the
    module that runs each kind of job (``jobs.kinds.runners()``). ``on_exit`` is called from
    another thread as a job's process ends, so the worker can record it at once."""

    def __init__(
        self, endpoint: str, runners: Mapping[str, str], on_exit: Callable[[], None] = lambda: None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.runners = dict(runners)
        self.on_exit = on_exit
        self.processes: dict[int, _Process] = {}
        self.spare: subprocess.Popen | None = None  # a runner started ahead, waiting for a job
        self._busy_at: float | None = None  # when a job last ran here (monotonic)

    def command(self) -> list[str]:
        """A job's process; it reads ``JOB_ID TOKEN`` from its first line of input."""
        return [sys.executable, "-m", "modelplaza.jobs.runner"]

    def start(self, job_id: int, token: str) -> None:
        try:
            process = self._take_spare() or self._spawn()
        except OSError as error:
            raise CouldNotStart(str(error)) from None
        stdin = _pipes(process)[0]
        # A runner that died already cannot read this; its exit and output become the job's.
        with contextlib.suppress(OSError):
            stdin.write(f"{job_id} {token}\n")
            stdin.flush()
        with contextlib.suppress(OSError):
            stdin.close()
        self.processes[job_id] = _Process(job_id, process, self.on_exit)
        logger.info("Job %d started (pid %d)", job_id, process.pid)

    def poll(self, job_id: int) -> Exit | None:
        return self.processes[job_id].poll()

    def output(self, job_id: int) -> list[str]:
        return self.processes[job_id].take_lines()

    def cancel(self, job_id: int) -> None:
        run = self.processes[job_id]
        if not run.terminated:
            run.signal(signal.SIGTERM)
            run.terminated = True

    def kill(self, job_id: int) -> None:
        self.processes[job_id].signal(signal.SIGKILL)

    def release(self, job_id: int) -> None:
        del self.processes[job_id]

    def keep_ready(self, job_may_start_soon: Callable[[], bool]) -> None:
        """Keep a runner started ahead while a job ran here in the last SPARE_IDLE_SECONDS and
        a job could start next."""
        now = time.monotonic()
        if self.processes:
            self._busy_at = now
        idle = self._busy_at is None or now - self._busy_at >= SPARE_IDLE_SECONDS
        if self.spare is not None and idle:
            _end(self.spare)
            self.spare = None
            logger.info("No jobs for a while: ended the spare runner")
        elif self.spare is None and not idle and job_may_start_soon():
            self.spare = self._spawn()

    def close(self) -> None:
        if self.spare is not None:
            _end(self.spare)
            self.spare = None

    def _take_spare(self) -> subprocess.Popen | None:
        spare, self.spare = self.spare, None
        if spare is not None and spare.poll() is not None:  # it died waiting: start afresh
            _end(spare)
            return None
        return spare

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(),
            env=self._environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )

    def _environment(self) -> dict[str, str]:
        """The plaza's environment without its own settings (a job reaches the plaza over HTTP
        only, so it needs no database URL or secret), plus the endpoint and the runners; the
        job's token comes with its id, on the process's input."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PLAZA_") and k not in ("HF_TOKEN", "HF_HUB_DISABLE_IMPLICIT_TOKEN")
        }
        return env | {
            ENDPOINT_VARIABLE: self.endpoint,
            RUNNERS_VARIABLE: json.dumps(self.runners),
            "HF_ENDPOINT": self.endpoint,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "PYTHONUNBUFFERED": "1",
        }


def _end(process: subprocess.Popen) -> None:
    """End a runner that has no job (nothing of it is worth keeping) and close its pipes."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pipe in _pipes(process):
        with contextlib.suppress(OSError):
            pipe.close()


def _pipes(process: subprocess.Popen) -> tuple[IO[str], IO[str]]:
    """The input and output of a runner process (``_spawn`` opens both)."""
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"
