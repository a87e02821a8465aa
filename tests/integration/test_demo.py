"""``plaza demo`` (what ``make run`` starts) on a data dir of its own: it seeds the 8x8 digits
as a Parquet dataset with a card, queues the README's CNN recipe on them through the job system,
and its server's worker trains the model into the hub. Seeding again queues nothing new."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from huggingface_hub import HfApi

from modelplaza.config import Settings
from modelplaza.demo import DEMO_USER, DIGITS_CNN, DIGITS_CNN_RECIPE, seed
from modelplaza.jobs.client import JobsClient
from tests.integration.job_helpers import MODEL_FILES, succeeded
from tests.plaza_server import free_port, running_plaza

README = Path(__file__).parents[2] / "README.md"
SPLITS = {"train": 1258, "validation": 269, "test": 270}


def digits_cnn_jobs(jobs: JobsClient) -> list[dict]:
    return [job for job in jobs.list() if job["spec"]["output"]["repo"] == DIGITS_CNN]


def test_the_demo_trains_a_cnn_on_the_digits_it_seeds_and_seeding_again_queues_nothing():
    assert DIGITS_CNN_RECIPE in README.read_text()  # the recipe the README shows is the one trained
    with running_plaza("demo", free_port(), command="demo") as server:
        token = (server.data_dir / "demo-token").read_text().strip()
        hub = HfApi(endpoint=server.url, token=token)
        with JobsClient(server.url, token) as jobs:
            [queued] = digits_cnn_jobs(jobs)
            assert queued["owner"] == DEMO_USER and queued["spec_text"] == DIGITS_CNN_RECIPE
            job = succeeded(jobs, queued["id"], timeout=90)
            logs = jobs.logs(job["id"])
            seed(Settings(data_dir=server.data_dir, database_url=server.env["PLAZA_DATABASE_URL"]))
            assert [j["id"] for j in digits_cnn_jobs(jobs)] == [job["id"]]

        dataset = hub.dataset_info("demo/digits")
        assert dataset.card_data.license == "cc-by-4.0"
        assert dataset.card_data.task_categories == ["image-classification"]
        for split, rows in SPLITS.items():
            path = hub.hf_hub_download(
                "demo/digits", f"data/{split}-00000-of-00001.parquet", repo_type="dataset"
            )
            table = pq.read_table(path)
            assert table.column_names == [*(f"pixel_{i}" for i in range(64)), "label"]
            assert table.num_rows == rows

        assert job["result"]["repo"] == DIGITS_CNN
        assert set(hub.list_repo_files(DIGITS_CNN)) >= MODEL_FILES
        with open(hub.hf_hub_download(DIGITS_CNN, "metrics.json")) as file:
            metrics = json.load(file)
        assert metrics["dataset"]["commit"] == dataset.sha
        assert metrics["test"]["accuracy"] >= 0.95, metrics["test"]
        assert "optimizer: Adam(lr=0.003, betas=(0.9, 0.999)" in logs
        assert "Trained in " in logs
