"""What a job's process runs: ``python -m modelplaza.jobs.runner``, with PLAZA_JOB_ENDPOINT and
PLAZA_JOB_RUNNERS (which module runs each kind of job) set by the executor that starts it.

It imports the code of every kind of job first, then reads ``JOB_ID TOKEN`` from its first line
of input: an executor can start it ahead of time and hand it the next job with its imports done
(an input that ends first ends it quietly). It fetches the job over the jobs API, runs the code
for its kind and reports metrics and log lines as it goes. SIGTERM asks it to stop (training
stops at its next step). It exits 0 once the job's result is recorded, STOPPED when it stopped
on request, and 1 when the job failed, after logging what went wrong and, last, one line
``Job failed: <why>`` that the worker turns into the job's message."""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import traceback

from modelplaza.errors import PlazaError
from modelplaza.jobs.client import JobsApiError, JobsClient
from modelplaza.jobs.context import (
    ENDPOINT_VARIABLE,
    RUNNERS_VARIABLE,
    SUMMARY_PREFIX,
    JobContext,
    JobStopped,
    Reporter,
)

STOPPED = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM
USAGE = (
    f'usage: echo JOB_ID TOKEN | {ENDPOINT_VARIABLE}=... {RUNNERS_VARIABLE}=\'{{"KIND": "MODULE"}}\''
    " python -m modelplaza.jobs.runner"
)


def run_job(client: JobsClient, context: JobContext, runners: dict[str, str]) -> int:
    """Run the job with the module ``runners`` names for its kind and record its result; the
    exit status (see the module's docstring)."""
    job_id = context.job["id"]
    try:
        kind = context.job["kind"]
        if kind not in runners:
            raise PlazaError(f"this plaza cannot run jobs of kind {kind!r}")
        result = importlib.import_module(runners[kind]).run(context)
        client.set_result(job_id, result)
        return 0
    except JobStopped as stopped:
        context.log(f"Stopped on request ({stopped})")
        return STOPPED
    except PlazaError as error:  # a failure the plaza's own code put in words
        problems = error.message.splitlines() or [type(error).__name__]
        for line in problems:
            context.log(line)
        context.log(SUMMARY_PREFIX + "; ".join(problems))
    except Exception as error:
        context.log("".join(traceback.format_exception(error)).rstrip())
        first_line = (str(error).splitlines() or [""])[0]
        summary = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
        context.log(SUMMARY_PREFIX + summary)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    endpoint = os.environ.get(ENDPOINT_VARIABLE)
    runners = _runners()
    if args or not endpoint or runners is None:
        print(USAGE, file=sys.stderr)
        return 2
    for module in runners.values():
        importlib.import_module(module)
    assignment = sys.stdin.readline().split()
    if not assignment:  # the worker let this spare runner go
        return 0
    if len(assignment) != 2 or not assignment[0].isdigit():
        print(USAGE, file=sys.stderr)
        return 2
    job_id, token = int(assignment[0]), assignment[1]
    os.environ["HF_TOKEN"] = token  # for libraries that look for the hub token themselves
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with JobsClient(endpoint, token) as client:
        reporter = Reporter(client, job_id)
        try:
            job = client.get(job_id)
        except JobsApiError as error:
            print(
                f"{SUMMARY_PREFIX}cannot read job {job_id} from the plaza: {error.message}", file=sys.stderr
            )
            return 1
        try:
            return run_job(client, JobContext(job, endpoint, token, reporter, stop), runners)
        finally:
            reporter.flush()


def _runners() -> dict[str, str] | None:
    """Which module runs each kind of job, from the environment; None when that is not a map
    of names to module names."""
    try:
        runners = json.loads(os.environ.get(RUNNERS_VARIABLE, ""))
    except ValueError:
        return None
    if not isinstance(runners, dict) or not all(isinstance(v, str) for v in runners.values()):
        return None
    return runners


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is sent, written and closed by now: skip the interpreter's teardown, which
    # takes torch most of a second.
    os._exit(status)
