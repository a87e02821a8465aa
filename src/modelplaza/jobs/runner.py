"""What a job's subprocess runs: ``python -m modelplaza.jobs.runner``, with PLAZA_JOB_ENDPOINT set.

It imports the code of every kind of job first, then reads ``JOB_ID TOKEN`` from its first line
of input: the worker can start it ahead of time and hand it the next job with its imports done
(an input that ends first ends it quietly). It fetches the job over the jobs API, runs the code
for its kind and reports metrics and log lines as it goes. SIGTERM asks it to stop (training
stops at its next step). It exits 0 once the job's result is recorded, STOPPED when it stopped
on request, and 1 when the job failed, after logging what went wrong and, last, one line
``Job failed: <why>`` that the worker turns into the job's message."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import traceback

from modelplaza.errors import PlazaError
from modelplaza.jobs.client import JobsApiError, JobsClient
from modelplaza.jobs.context import SUMMARY_PREFIX, JobContext, JobStopped, Reporter

STOPPED = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM
# The module whose run(context) -> result does each kind of job.
KINDS = {"train": "modelplaza.train.job"}
USAGE = "usage: echo JOB_ID TOKEN | PLAZA_JOB_ENDPOINT=... python -m modelplaza.jobs.runner"


def run_job(client: JobsClient, context: JobContext) -> int:
    """Run the job and record its result; the exit status (see the module's docstring)."""
    job_id = context.job["id"]
    try:
        kind = context.job["kind"]
        if kind not in KINDS:
            raise PlazaError(f"this plaza cannot run jobs of kind {kind!r}")
        result = importlib.import_module(KINDS[kind]).run(context)
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
    endpoint = os.environ.get("PLAZA_JOB_ENDPOINT")
    if args or not endpoint:
        print(USAGE, file=sys.stderr)
        return 2
    for module in KINDS.values():
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
            return run_job(client, JobContext(job, endpoint, token, reporter, stop))
        finally:
            reporter.flush()


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is sent, written and closed by now: skip the interpreter's teardown, which
    # takes torch most of a second.
    os._exit(status)
