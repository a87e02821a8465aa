"""Training through real jobs on the real server: recipes are submitted with the jobs client,
the server's embedded worker runs each in a subprocess that downloads its dataset and uploads
its model over the hub API, and the trained model comes back with modelplaza.load_model.

The plaza runs one job at a time, so each test submits and waits."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import yaml
from huggingface_hub import HfApi, ModelCard, metadata_update

import modelplaza
from modelplaza.jobs.client import JobsClient
from tests.integration.job_helpers import JOB_TIMEOUT, MODEL_FILES, succeeded, unique, upload_table, wait
from tests.plaza_server import WORK_DIR, free_port, running_plaza
from tests.unit.train_helpers import digits_table, iris_table, sum_sign_table, tiny_bert, topic_table


@pytest.fixture(scope="module")
def jobs(plaza) -> JobsClient:
    with JobsClient(plaza.url, plaza.tokens["alice"]) as client:
        yield client


@pytest.fixture(scope="module")
def hub(plaza) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])


def _split_rows(table: pa.Table, seed: int = 0) -> dict[str, pa.Table]:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    train, validation = int(table.num_rows * 0.7), int(table.num_rows * 0.85)
    parts = {"train": order[:train], "validation": order[train:validation], "test": order[validation:]}
    return {name: table.take(pa.array(rows)) for name, rows in parts.items()}


@pytest.fixture(scope="module")
def digits(hub) -> dict[str, Any]:
    """sklearn's 8x8 digits pushed with `datasets` as Parquet train / validation / test splits,
    with a licence on its card."""
    from datasets import Dataset, DatasetDict

    repo = f"alice/{unique('digits')}"
    parts = _split_rows(digits_table())
    with pytest.MonkeyPatch.context() as patch:
        from huggingface_hub import constants

        patch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        DatasetDict(
            {name: Dataset.from_dict(table.to_pydict()) for name, table in parts.items()}
        ).push_to_hub(repo, token=hub.token)
    metadata_update(repo, {"license": "cc-by-4.0"}, repo_type="dataset", token=hub.token)
    commit = hub.dataset_info(repo).sha
    return {"repo": repo, "commit": commit, "test": parts["test"]}


@pytest.fixture(scope="module")
def topics(hub) -> str:
    """Generated short texts about sport, food or tech, one Parquet file (a single train split)."""
    return upload_table(hub, topic_table(), "topics.parquet", "parquet")


def recipe(dataset: str, output_repo: str, **sections: Any) -> str:
    document = {
        "data": {"dataset": dataset, "inputs": ["*"], "label": "label"},
        "model": {"type": "mlp"},
        "optimizer": {"name": "adam", "lr": 0.003},
        "loss": "cross_entropy",
        "training": {"epochs": 5, "batch_size": 32, "seed": 0},
        "output": {"repo": output_repo},
    }
    for name, section in sections.items():
        document[name] = {**document[name], **section} if isinstance(section, dict) else section
    return yaml.safe_dump(document, sort_keys=False)


RATIOS = {"ratios": {"train": 0.7, "validation": 0.15, "test": 0.15}, "seed": 0}
TEXT = {"inputs": ["text"], "splits": RATIOS, "preprocessing": {"text": {"max_length": 16}}}


def card_of(hub: HfApi, result: dict) -> ModelCard:
    return ModelCard.load(hub.hf_hub_download(result["repo"], "README.md", revision=result["commit"]))


def metrics_of(hub: HfApi, result: dict) -> dict:
    path = hub.hf_hub_download(result["repo"], "metrics.json", revision=result["commit"])
    with open(path) as file:
        return json.load(file)


def test_a_cnn_on_digits_lands_as_one_commit_with_its_card_and_loads_back(plaza, jobs, hub, digits):
    output = f"alice/{unique('digits-cnn')}"
    text = recipe(
        digits["repo"],
        output,
        data={"inputs": ["pixel_*"], "preprocessing": {"scale": "standard", "reshape": [1, 8, 8]}},
        model={"type": "cnn", "channels": [32, 64], "hidden": [64]},
        optimizer={"name": "adam", "lr": 0.003, "schedule": "cosine"},
        training={"epochs": 12, "batch_size": 32, "seed": 0},
        output={"repo": output, "branch": "cnn-run", "private": True},
    )
    job = succeeded(jobs, jobs.submit(text)["id"])
    result = job["result"]
    commit = result["commit"]
    assert result == {
        "repo": output,
        "repo_type": "model",
        "branch": "cnn-run",
        "commit": commit,
        "url": f"{plaza.url}/{output}/commit/{commit}",
    }
    assert hub.model_info(output).private
    assert {branch.name: branch.target_commit for branch in hub.list_repo_refs(output).branches}[
        "cnn-run"
    ] == commit
    history = hub.list_repo_commits(output, revision="cnn-run")
    assert history[0].commit_id == commit and len(history) == 2  # the repo's first commit, then the model
    assert set(hub.list_repo_files(output, revision=commit)) >= MODEL_FILES

    metrics = metrics_of(hub, result)
    assert metrics["dataset"] == {"repo": digits["repo"], "revision": "main", "commit": digits["commit"]}
    assert metrics["test"]["accuracy"] >= 0.95, metrics["test"]
    assert [record["epoch"] for record in metrics["history"]] == list(range(1, 13))
    with open(hub.hf_hub_download(output, "recipe.yaml", revision=commit)) as submitted:
        assert submitted.read() == text
    with open(hub.hf_hub_download(output, "training_curves.png", revision=commit), "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"

    card = card_of(hub, result)
    assert card.data.license == "cc-by-4.0" and card.data.datasets == [digits["repo"]]
    scores = {(r.dataset_split, r.metric_type): r for r in card.data.eval_results}
    test_accuracy = scores["test", "accuracy"]
    assert test_accuracy.metric_value == pytest.approx(metrics["test"]["accuracy"])
    assert (
        test_accuracy.dataset_revision == digits["commit"]
        and test_accuracy.task_type == "image-classification"
    )
    assert ("validation", "f1") in scores
    for fact in (
        digits["commit"],
        "![Training curves",
        '`optimizer.schedule.name` | `"cosine"`',
        "`cc-by-4.0`",
    ):
        assert fact in card.text
    assert f'modelplaza.load_model("{output}", revision="cnn-run", endpoint="{plaza.url}")' in card.text

    model = modelplaza.load_model(output, revision=commit, endpoint=plaza.url, token=hub.token)
    test = digits["test"]
    predicted = model.predict(test)
    accuracy = float(np.mean(np.array(predicted) == np.array(test.column("label").to_pylist())))
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])

    events = jobs.events(job["id"])
    reported = [event["data"] for event in events if event["kind"] == "metrics"]
    assert [r["epoch"] for r in reported if r["kind"] == "epoch"] == list(range(1, 13))
    assert any(r["kind"] == "step" for r in reported) and reported[-1]["kind"] == "test"
    logs = jobs.logs(job["id"])
    assert f"Dataset {digits['repo']} at commit {digits['commit']}" in logs and "Epoch 12/12" in logs


def test_an_mlp_on_digits_reaches_90_percent(jobs, hub, digits):
    text = recipe(
        digits["repo"],
        f"alice/{unique('digits-mlp')}",
        data={"preprocessing": {"scale": "minmax"}},
        model={"type": "mlp", "hidden": [64]},
        training={"epochs": 10, "batch_size": 32, "seed": 0},
    )
    result = succeeded(jobs, jobs.submit(text)["id"])["result"]
    assert metrics_of(hub, result)["test"]["accuracy"] >= 0.90


def test_the_same_seed_twice_gives_the_same_metrics(jobs, hub):
    """Iris as CSV files named by split; the same recipe run twice, into the same repo."""
    repo = f"alice/{unique('iris')}"
    hub.create_repo(repo, repo_type="dataset")
    for name, part in _split_rows(iris_table(), seed=1).items():
        csv = (
            ",".join(part.column_names)
            + "\n"
            + "".join(",".join(str(value) for value in row.values()) + "\n" for row in part.to_pylist())
        )
        hub.upload_file(
            path_or_fileobj=csv.encode(), path_in_repo=f"{name}.csv", repo_id=repo, repo_type="dataset"
        )
    output = f"alice/{unique('iris-mlp')}"
    text = recipe(
        repo,
        output,
        data={"preprocessing": {"scale": "standard"}},
        model={"type": "mlp", "hidden": [16]},
        optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True},
        training={
            "epochs": 15,
            "batch_size": 16,
            "seed": 7,
            "early_stopping": {"metric": "accuracy", "patience": 5},
        },
    )
    first, second = (jobs.submit(text)["id"] for _ in range(2))
    runs = [metrics_of(hub, succeeded(jobs, job_id)["result"]) for job_id in (first, second)]
    assert runs[0]["history"] == runs[1]["history"]
    assert runs[0]["test"] == runs[1]["test"] and runs[0]["test"]["accuracy"] >= 0.8
    assert len(hub.list_repo_commits(output)) == 3  # both runs committed to the one repo


def test_an_lstm_and_a_gru_learn_sequence_tasks(jobs, hub, topics):
    sums = upload_table(hub, sum_sign_table(), "sums.jsonl", "jsonl")
    lstm = recipe(
        sums,
        f"alice/{unique('lstm')}",
        data={"inputs": ["x*"], "splits": RATIOS, "preprocessing": {"reshape": [8, 1]}},
        model={"type": "rnn", "cell": "lstm", "hidden_size": 32},
        optimizer={"name": "adam", "lr": 0.01},
        training={"epochs": 10, "batch_size": 32, "seed": 0},
    )
    gru = recipe(
        topics,
        f"alice/{unique('gru')}",
        data=TEXT,
        model={"type": "rnn", "cell": "gru", "hidden_size": 32, "bidirectional": True},
        optimizer={"name": "adam", "lr": 0.01},
        training={"epochs": 6, "batch_size": 32, "seed": 0},
    )
    submitted = [jobs.submit(text)["id"] for text in (lstm, gru)]
    for job_id in submitted:
        result = succeeded(jobs, job_id)["result"]
        assert metrics_of(hub, result)["test"]["accuracy"] >= 0.9


def test_a_transformer_encoder_learns_to_classify_generated_texts(jobs, hub, topics):
    text = recipe(
        topics,
        f"alice/{unique('transformer')}",
        data=TEXT,
        model={"type": "transformer", "d_model": 32, "num_heads": 4, "num_layers": 1, "dim_feedforward": 64},
        optimizer={"name": "adamw", "lr": 0.003},
        training={"epochs": 8, "batch_size": 32, "seed": 0},
    )
    result = succeeded(jobs, jobs.submit(text)["id"])["result"]
    metrics = metrics_of(hub, result)
    assert metrics["test"]["accuracy"] >= 0.9
    card = card_of(hub, result)
    assert card.data.eval_results[0].task_type == "text-classification"
    assert "None stated" in card.text  # the generated dataset names no licence


def test_a_tiny_bert_pushed_to_the_plaza_is_fine_tuned(plaza, jobs, hub, topics, tmp_path):
    bert = f"alice/{unique('tiny-bert')}"
    hub.create_repo(bert)
    hub.upload_folder(repo_id=bert, folder_path=tiny_bert(tmp_path / "bert"))
    bert_commit = hub.model_info(bert).sha
    output = f"alice/{unique('bert-topics')}"
    text = recipe(
        topics,
        output,
        data={"inputs": ["text"], "splits": RATIOS, "preprocessing": {"text": {"max_length": 16}}},
        model={"type": "hub", "repo": bert},
        optimizer={"name": "adamw", "lr": 0.003},
        training={"epochs": 6, "batch_size": 32, "seed": 0},
        output={"repo": output, "license": "apache-2.0"},
    )
    result = succeeded(jobs, jobs.submit(text)["id"])["result"]
    assert metrics_of(hub, result)["test"]["accuracy"] >= 0.8
    files = set(hub.list_repo_files(output, revision=result["commit"]))
    assert files >= MODEL_FILES | {"tokenizer.json"}
    card = card_of(hub, result)
    assert card.data.base_model == [bert] and card.data.license == "apache-2.0"
    assert bert_commit in card.text and "set by the recipe" in card.text
    model = modelplaza.load_model(output, revision=result["commit"], endpoint=plaza.url, token=hub.token)
    assert model.predict([{"text": "the team scored a goal"}, {"text": "we bake bread and cheese"}]) == [
        "sport",
        "food",
    ]


def test_a_cancelled_job_stops_and_a_job_whose_dataset_went_missing_fails_clearly(jobs, hub, digits):
    long_output = f"alice/{unique('never')}"
    long_running = jobs.submit(
        recipe(digits["repo"], long_output, training={"epochs": 10000, "batch_size": 8, "seed": 0})
    )["id"]
    # Queued behind the long job, then its dataset is deleted before it can run.
    doomed = upload_table(hub, iris_table(), "iris.parquet", "parquet")
    missing = jobs.submit(recipe(doomed, f"alice/{unique('orphan')}", data={"splits": RATIOS}))["id"]
    hub.delete_repo(doomed, repo_type="dataset")

    deadline = time.monotonic() + JOB_TIMEOUT
    while not any(e["kind"] == "metrics" for e in jobs.events(long_running)):
        assert time.monotonic() < deadline and jobs.get(long_running)["state"] in ("queued", "running")
        time.sleep(0.25)
    assert jobs.cancel(long_running)["cancel_requested"]
    cancelled_at = time.monotonic()
    stopped = wait(jobs, long_running)
    assert time.monotonic() - cancelled_at < 10
    assert (stopped["state"], stopped["message"]) == ("cancelled", "Cancelled by alice")
    assert "Stopped on request (cancelled at epoch" in jobs.logs(long_running)
    assert not hub.repo_exists(long_output)  # nothing was committed

    failed = wait(jobs, missing)
    assert failed["state"] == "failed"
    assert failed["message"] == (
        f"The job exited with code 1: data.dataset: the dataset {doomed} was not found "
        "(it does not exist, or alice cannot read it)"
    )
    assert "Traceback" not in jobs.logs(missing)


def test_plaza_worker_runs_the_jobs_of_a_plaza_without_an_embedded_worker_and_requeues_on_stop():
    with running_plaza("separate-worker", free_port(), PLAZA_EMBEDDED_WORKER="false") as server:
        server.cli("admin", "create-user", "carol", "--password", "carol-password")
        token = server.token("carol")
        api = HfApi(endpoint=server.url, token=token)
        dataset = upload_table(api, iris_table(), "iris.parquet", namespace="carol")
        short = recipe(dataset, "carol/iris-mlp", data={"splits": RATIOS}, training={"epochs": 3, "seed": 0})
        endless = recipe(
            dataset, "carol/endless", data={"splits": RATIOS}, training={"epochs": 10000, "batch_size": 4}
        )
        with (
            JobsClient(server.url, token) as client,
            open(WORK_DIR / "separate-worker.worker.log", "w") as log,
        ):
            first = client.submit(short)["id"]
            time.sleep(1.5)
            assert client.get(first)["state"] == "queued"  # nothing runs jobs yet
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "modelplaza.cli.main",
                    "worker",
                    "--concurrency",
                    "1",
                    "--endpoint",
                    server.url,
                ],
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                assert succeeded(client, first)["result"]["repo"] == "carol/iris-mlp"
                second = client.submit(endless)["id"]
                deadline = time.monotonic() + JOB_TIMEOUT
                while not any(e["kind"] == "metrics" for e in client.events(second)):
                    assert time.monotonic() < deadline
                    time.sleep(0.25)
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0
            finally:
                worker.kill()
            requeued = client.get(second)
            assert (requeued["state"], requeued["attempts"]) == ("queued", 1)
            assert "[queued] Re-queued: its worker" in client.logs(second)
            assert "stopped while it ran" in client.logs(second)
            assert client.cancel(second)["state"] == "cancelled"
