"""What the tests of training jobs share: waiting for a job to end, and the files a trained
model's commit holds."""

from __future__ import annotations

import time

from modelplaza.jobs.client import JobsClient
from modelplaza.jobs.queue import FINISHED

JOB_TIMEOUT = 180
MODEL_FILES = {
    "model.safetensors",
    "config.json",
    "recipe.yaml",
    "metrics.json",
    "training_curves.png",
    "README.md",
}


def wait(jobs: JobsClient, job_id: int, timeout: float = JOB_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job["state"] in FINISHED:
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish:\n{jobs.logs(job_id)}")


def succeeded(jobs: JobsClient, job_id: int, timeout: float = JOB_TIMEOUT) -> dict:
    job = wait(jobs, job_id, timeout)
    assert job["state"] == "succeeded", f"{job['message']}\n{jobs.logs(job_id)}"
    return job
