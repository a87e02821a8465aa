"""What the code for a kind of job works with: the job, how to reach the plaza, a reporter for
its metrics and log lines, and whether it was asked to stop. Kept apart from runner.py, which
runs as ``__main__``, so that job code and the runner share these classes."""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from modelplaza.jobs.client import JobsApiError, JobsClient

# The runner's last log line when a job fails; the worker makes the rest the job's message.
SUMMARY_PREFIX = "Job failed: "
# What an executor tells a job's process: where the plaza is, and which module runs each kind
# of job (JSON: {"train": "modelplaza.train.job", ...}, from the registry in jobs.kinds).
ENDPOINT_VARIABLE = "PLAZA_JOB_ENDPOINT"
RUNNERS_VARIABLE = "PLAZA_JOB_RUNNERS"
# Step metrics are sent at most this often; epoch and test metrics always, at once.
STEP_INTERVAL = 0.5
# Log lines wait at most this long to go out together.
LOG_INTERVAL = 1.0


class JobStopped(Exception):
    """The job was asked to stop (SIGTERM) and did."""


class Reporter:
    """Sends a job's metrics and log lines to the plaza in batches. Should the plaza not take
    them, they go to stderr, which the worker stores in the job's log too."""

    def __init__(self, client: JobsClient, job_id: int) -> None:
        self.client = client
        self.job_id = job_id
        self.pending: list[dict[str, Any]] = []
        self.unsent_step: dict[str, Any] | None = None
        self.step_sent_at = self.flushed_at = -math.inf

    def metrics(self, record: dict[str, Any]) -> None:
        if record.get("kind") == "step":
            self.unsent_step = record
            if time.monotonic() - self.step_sent_at >= STEP_INTERVAL:
                self._send_step(record)
                self.flush()
            return
        if self.unsent_step is not None:  # the curve reaches the epoch's last step
            self._send_step(self.unsent_step)
        self.pending.append({"kind": "metrics", "data": _finite(record)})
        self.flush()

    def log(self, line: str) -> None:
        self.pending.extend({"kind": "log", "data": {"line": part}} for part in line.splitlines() or [""])
        if time.monotonic() - self.flushed_at >= LOG_INTERVAL:
            self.flush()

    def flush(self) -> None:
        events, self.pending = self.pending, []
        self.flushed_at = time.monotonic()
        try:
            self.client.report(self.job_id, events)
        except JobsApiError as error:
            print(f"Could not report to the plaza: {error.message}", file=sys.stderr)
            for event in events:
                if event["kind"] == "log":
                    print(event["data"]["line"], file=sys.stderr)

    def _send_step(self, step: dict[str, Any]) -> None:
        self.pending.append({"kind": "metrics", "data": _finite(step)})
        self.unsent_step = None
        self.step_sent_at = time.monotonic()


def _finite(record: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN or infinity (a diverging loss): they are sent as null."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()}


@dataclass
class JobContext:
    """What the code for a kind of job gets: the job, how to reach the plaza, and where to report."""

    job: dict[str, Any]
    endpoint: str
    token: str
    reporter: Reporter
    stop: threading.Event

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def check_stop(self, where: str) -> None:
        if self.stop.is_set():
            raise JobStopped(where)

    def log(self, line: str) -> None:
        self.reporter.log(line)

    def metrics(self, record: dict[str, Any]) -> None:
        self.reporter.metrics(record)
