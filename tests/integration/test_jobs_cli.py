"""``plaza train submit --watch`` and ``plaza jobs`` as a person at a terminal sees them: each
epoch's scores once, a table that fits the terminal's width with a row per job, and a cancel
of a job that has already finished saying so in one line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from huggingface_hub import HfApi

from tests.integration.job_helpers import succeeded, unique, upload_table
from tests.plaza_server import PlazaServer
from tests.terminal import Terminal
from tests.unit.train_helpers import iris_table

PLAZA = [sys.executable, "-m", "modelplaza.cli.main"]
EPOCHS = 4


def plaza_env(plaza: PlazaServer) -> dict[str, str]:
    return {**plaza.env, "PLAZA_URL": plaza.url, "HF_TOKEN": plaza.tokens["alice"]}


def run(plaza: PlazaServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PLAZA, *args], env=plaza_env(plaza), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def iris_recipe(plaza, tmp_path_factory) -> str:
    """A small MLP recipe on iris (one Parquet file, cut into train, validation and test)."""
    hub = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    dataset = upload_table(hub, iris_table(), "iris.parquet")
    recipe = {
        "data": {
            "dataset": dataset,
            "splits": {"ratios": {"train": 0.7, "validation": 0.15, "test": 0.15}, "seed": 0},
            "inputs": ["*"],
            "label": "label",
            "preprocessing": {"scale": "standard"},
        },
        "model": {"type": "mlp", "hidden": [16]},
        "optimizer": {"name": "adam", "lr": 0.01},
        "loss": "cross_entropy",
        "training": {"epochs": EPOCHS, "batch_size": 16, "seed": 0},
        "output": {"repo": f"alice/{unique('iris-mlp')}"},
    }
    path = tmp_path_factory.mktemp("recipes") / "iris-mlp.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return str(path)


def test_watch_prints_each_epoch_once_and_the_list_says_the_epoch_reached(plaza, iris_recipe, tmp_path):
    watched = run(plaza, "train", "submit", iris_recipe, "--watch")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    job_id = int(re.search(r"submitted job (\d+)", watched.stdout).group(1))
    for epoch in range(1, EPOCHS + 1):
        # One line with the epoch's scores, the log's: "Epoch 2/4: train_loss 0.61, ...".
        scores = re.findall(rf"^epoch {epoch}\b.*:.*loss", watched.stdout, re.IGNORECASE | re.MULTILINE)
        assert scores == [f"Epoch {epoch}/{EPOCHS}: " + scores[0].split(": ", 1)[1]], watched.stdout
    assert watched.stdout.count("Test: ") == 1 and f"job {job_id} succeeded" in watched.stdout

    listing = Terminal([*PLAZA, "jobs", "list"], plaza_env(plaza), tmp_path, columns=100)
    assert listing.finish() == 0, listing.output
    lines = re.sub(r"\x1b\[[0-9;]*m", "", listing.output).replace("\r\n", "\n").splitlines()
    assert all(len(line) <= 100 for line in lines), lines
    [row] = [line for line in lines if re.match(rf"\s*{job_id} ", line)]
    assert f"{job_id} succeeded train mlp on" in " ".join(row.split()), row
    assert f"epoch {EPOCHS}/{EPOCHS}  test_accuracy 0." in row

    piped = run(plaza, "jobs", "list")  # not a terminal: whole rows, one line each
    [row] = [line for line in piped.stdout.splitlines() if re.match(rf"\s*{job_id} ", line)]
    assert f"epoch {EPOCHS}/{EPOCHS}" in row and "test_accuracy" in row


def test_cancelling_a_finished_job_says_so_in_one_line(plaza, iris_recipe):
    with_ids = run(plaza, "train", "submit", iris_recipe)
    job_id = int(re.search(r"submitted job (\d+)", with_ids.stdout).group(1))
    from modelplaza.jobs.client import JobsClient

    with JobsClient(plaza.url, plaza.tokens["alice"]) as jobs:
        succeeded(jobs, job_id)
    cancelled = run(plaza, "jobs", "cancel", str(job_id))
    assert (cancelled.returncode, cancelled.stdout, cancelled.stderr) == (
        0,
        f"job {job_id} has already succeeded: nothing to cancel\n",
        "",
    )
    missing = run(plaza, "jobs", "cancel", "999999999")
    assert (
        missing.returncode == 1 and missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
    )
