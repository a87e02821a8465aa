"""The README followed as written, from a clone, in a plain shell: ``plaza demo`` (what ``make
run`` starts) seeds the demo and trains nothing yet; then the README's first-steps and training
commands run unchanged in bash, and its Python steps in ``python``, from the clone's directory.

The clone is a directory holding the repository's examples, the demo's ``.plaza`` data dir and
a ``.venv/bin/activate`` that puts a ``plaza`` running this checkout first on PATH, as the
virtualenv ``make run`` makes does. The one change to the README's text: the demo serves on a
free port, which replaces ``http://127.0.0.1:8000``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pyarrow.parquet as pq
from huggingface_hub import HfApi

from modelplaza.demo import DEMO_USER
from modelplaza.jobs.client import JobsClient
from tests.integration.job_helpers import MODEL_FILES, wait
from tests.plaza_server import WORK_DIR, free_port, running_plaza
from tests.readme import LOCAL_URL, ROOT, block_in, blocks, plaza_shim

SPLITS = {"train": 1258, "validation": 269, "test": 270}


def a_clone():
    clone = WORK_DIR / "readme-clone"
    clone.mkdir()
    (clone / "examples").symlink_to(ROOT / "examples")
    venv_bin = clone / ".venv" / "bin"
    plaza_shim(venv_bin)
    (venv_bin / "activate").write_text(f'PATH="{venv_bin}:$PATH"\nexport PATH\n')
    return clone


# The test suite's own settings a user's shell does not have (the suite keeps its clients from
# sending HF_TOKEN unasked; the README relies on it).
SUITE_ONLY = ("HF_TOKEN", "HF_HUB_DISABLE_IMPLICIT_TOKEN")


def shell_env() -> dict[str, str]:
    """A shell's environment that names no plaza: the README's exports do."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_") and k not in SUITE_ONLY}


def test_the_readme_works_as_written_on_the_demo():
    clone = a_clone()
    with running_plaza("readme-clone/.plaza", free_port(), command="demo") as server:
        token = (clone / ".plaza" / "demo-token").read_text().strip()
        hub = HfApi(endpoint=server.url, token=token)
        with JobsClient(server.url, token) as jobs:
            assert jobs.list() == []  # nothing trained behind the visitor's back
            assert "Train a first model: log in, open" in server.log.read_text()

            steps = block_in("First steps", "bash").text + block_in("Training", "bash").text
            shell = subprocess.run(
                ["bash", "-e", "-c", steps.replace(LOCAL_URL, server.url)],
                cwd=clone,
                env=shell_env(),
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert shell.returncode == 0, shell.stdout + shell.stderr
            out = shell.stdout
            assert "submitted job 1: train cnn on demo/digits" in out and "job 1 succeeded" in out
            watched, listed = out.split("\nid  state", 1)  # submit --watch, then jobs list on
            assert watched.count("Epoch 10/10: ") == 1 and "optimizer: Adam(lr=0.003" in watched
            assert "epoch 10/10  test_accuracy 0.9" in listed.splitlines()[1]
            assert "recipe:" in out and "Trained in " in out  # jobs show 1, jobs logs 1
            assert "submitted job 2: train mlp on demo/digits" in out
            assert out.rstrip().splitlines()[-1] in (
                "job 2 cancelled",
                "job 2: cancellation requested; it stops at its next step",
            )
            cancelled = wait(jobs, 2)
            assert cancelled["state"] == "cancelled", cancelled
            [first] = [job for job in jobs.list() if job["id"] == 1]
            assert first["owner"] == DEMO_USER and first["result"]["repo"] == "demo/digits-cnn"

        python = "".join(block.text for block in blocks("python"))
        env = shell_env() | {"HF_ENDPOINT": server.url, "HF_TOKEN": token}
        ran = subprocess.run(
            [sys.executable, "-c", python], cwd=clone, env=env, capture_output=True, text=True, timeout=600
        )
        assert ran.returncode == 0, ran.stderr
        assert re.fullmatch(r"\[\d\]", ran.stdout.strip().splitlines()[-1]), ran.stdout  # one digit

        mine = hub.model_info("demo/my-model")
        assert mine.private and "config.json" in {s.rfilename for s in mine.siblings}
        assert [tag.name for tag in hub.list_repo_refs("demo/my-model").tags] == ["v1.0"]

        dataset = hub.dataset_info("demo/digits")
        assert dataset.card_data.license == "cc-by-4.0"
        for split, rows in SPLITS.items():
            path = hub.hf_hub_download(
                "demo/digits", f"data/{split}-00000-of-00001.parquet", repo_type="dataset"
            )
            assert pq.read_table(path).num_rows == rows
        assert set(hub.list_repo_files("demo/digits-cnn")) >= MODEL_FILES
        with open(hub.hf_hub_download("demo/digits-cnn", "metrics.json")) as file:
            metrics = json.load(file)
        assert metrics["dataset"]["commit"] == dataset.sha
        assert metrics["test"]["accuracy"] >= 0.95, metrics["test"]
