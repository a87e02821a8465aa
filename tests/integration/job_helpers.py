"""What the tests of training jobs share: datasets to train on, waiting for a job to end, and
the files a trained model's commit holds."""

from __future__ import annotations

import json
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import HfApi

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


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def upload_table(
    hub: HfApi, table: pa.Table, path: str, fmt: str = "parquet", namespace: str = "alice"
) -> str:
    """A new dataset repo in ``namespace`` holding ``table`` as one Parquet or JSON Lines file."""
    repo = f"{namespace}/{unique(path.split('.')[0])}"
    hub.create_repo(repo, repo_type="dataset")
    if fmt == "parquet":
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
    else:
        data = "".join(json.dumps(row) + "\n" for row in table.to_pylist()).encode()
    hub.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo, repo_type="dataset")
    return repo


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
