"""Every optimiser, loss, schedule and regulariser, through real training jobs: each job logs,
before it trains, what it built, read back from the torch objects (class names, param_groups,
the loss module's settings, the dropout layers of the model), and the log must say exactly what
its recipe configured. The jobs are tiny (a small MLP, two epochs on 240 generated rows) and run
two at a time on a plaza of their own; each also checks a regulariser or schedule or two, so
eight jobs cover them all."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import HfApi

from modelplaza.jobs.client import JobsApiError, JobsClient
from tests.integration.job_helpers import succeeded
from tests.plaza_server import free_port, running_plaza

DATASET = "carol/components"
# 240 rows split 168 / 36 / 36: 6 batches of 32 per epoch, 12 optimiser steps in two epochs.
RATIOS = {"ratios": {"train": 0.7, "validation": 0.15, "test": 0.15}, "seed": 0}
NO_REGULARIZATION = "regularization: l1=0.0, weight_decay=0.0, dropout=0.0 (1 layer), grad_clip=none"

# name: (recipe sections, the lines the job must log)
JOBS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "sgd": (
        {
            "optimizer": {
                "name": "sgd",
                "lr": 0.05,
                "schedule": {"name": "step", "step_size": 1, "gamma": 0.5},
            },
            "loss": {"name": "cross_entropy", "label_smoothing": 0.1},
            "regularization": {"weight_decay": 0.001},
        },
        [
            "optimizer: SGD(lr=0.05, momentum=0.0, dampening=0, weight_decay=0.001, nesterov=False)",
            "schedule: StepLR(step_size=6, gamma=0.5), stepped after every batch",
            "loss: CrossEntropyLoss(label_smoothing=0.1)",
            "regularization: l1=0.0, weight_decay=0.001, dropout=0.0 (1 layer), grad_clip=none",
        ],
    ),
    "sgd with momentum": (
        {
            "optimizer": {
                "name": "sgd",
                "lr": 0.05,
                "momentum": 0.9,
                "schedule": {"name": "cosine", "min_lr": 0.001},
            },
            "loss": "nll",
            "regularization": {"dropout": 0.25},
        },
        [
            "optimizer: SGD(lr=0.05, momentum=0.9, dampening=0, weight_decay=0.0, nesterov=False)",
            "schedule: CosineAnnealingLR(T_max=12, eta_min=0.001), stepped after every batch",
            "loss: NLLLoss() on log_softmax(outputs)",
            "regularization: l1=0.0, weight_decay=0.0, dropout=0.25 (1 layer), grad_clip=none",
        ],
    ),
    "sgd with nesterov momentum": (
        {
            "optimizer": {
                "name": "sgd",
                "lr": 0.05,
                "momentum": 0.8,
                "nesterov": True,
                "schedule": {"name": "linear", "warmup_steps": 3, "min_lr": 0.025},
            },
            "loss": "multi_margin",
            "regularization": {"grad_clip": 0.5},
        },
        [
            "optimizer: SGD(lr=0.05, momentum=0.8, dampening=0, weight_decay=0.0, nesterov=True)",
            "schedule: SequentialLR([LinearLR(start_factor=0.25, end_factor=1.0, total_iters=3), "
            "LinearLR(start_factor=1.0, end_factor=0.5, total_iters=9)], milestones=[3]), "
            "stepped after every batch",
            "loss: MultiMarginLoss()",
            "regularization: l1=0.0, weight_decay=0.0, dropout=0.0 (1 layer), grad_clip=0.5 (max gradient norm)",
        ],
    ),
    "adagrad": (
        {
            "data": {"label": "positive"},
            "optimizer": {"name": "adagrad", "lr": 0.1, "eps": 1e-6},
            "loss": "bce",
            "regularization": {"l1": 0.001},
        },
        [
            "optimizer: Adagrad(lr=0.1, lr_decay=0, eps=1e-06, weight_decay=0.0, initial_accumulator_value=0)",
            "schedule: constant (no scheduler)",
            "loss: BCEWithLogitsLoss() on one logit per example",
            "regularization: l1=0.001, weight_decay=0.0, dropout=0.0 (1 layer), grad_clip=none",
        ],
    ),
    "rmsprop": (
        {
            "data": {"label": "target"},
            "optimizer": {"name": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5},
            "loss": "mse",
        },
        [
            "optimizer: RMSprop(lr=0.01, momentum=0.5, alpha=0.9, eps=1e-08, centered=False, weight_decay=0.0)",
            "loss: MSELoss()",
            NO_REGULARIZATION,
        ],
    ),
    "adam with every regulariser": (
        {
            "data": {"label": "target"},
            "model": {"type": "mlp", "hidden": [8, 8]},
            "optimizer": {"name": "adam", "lr": 0.01, "betas": [0.85, 0.99]},
            "loss": {"name": "huber", "delta": 0.5},
            "regularization": {"l1": 0.0001, "weight_decay": 0.01, "dropout": 0.2, "grad_clip": 1.0},
        },
        [
            "model: MLP with 121 trainable parameters",
            "optimizer: Adam(lr=0.01, betas=(0.85, 0.99), eps=1e-08, weight_decay=0.01, amsgrad=False, "
            "decoupled_weight_decay=False)",
            "loss: HuberLoss(delta=0.5)",
            "regularization: l1=0.0001, weight_decay=0.01, dropout=0.2 (2 layers), grad_clip=1.0 (max gradient norm)",
        ],
    ),
    "adamw": (
        {
            "data": {"label": "target"},
            "optimizer": {"name": "adamw", "lr": 0.005, "schedule": {"name": "cosine", "warmup_steps": 2}},
            "loss": {"name": "smooth_l1", "beta": 0.5},
            "regularization": {"weight_decay": 0.05},
        },
        [
            "optimizer: AdamW(lr=0.005, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.05, amsgrad=False, "
            "decoupled_weight_decay=True)",
            "schedule: SequentialLR([LinearLR(start_factor=0.3333333333333333, end_factor=1.0, total_iters=2), "
            "CosineAnnealingLR(T_max=10, eta_min=0.0)], milestones=[2]), stepped after every batch",
            "loss: SmoothL1Loss(beta=0.5)",
            "regularization: l1=0.0, weight_decay=0.05, dropout=0.0 (1 layer), grad_clip=none",
        ],
    ),
    "l1 loss": (
        {"data": {"label": "target"}, "optimizer": {"name": "adam", "lr": 0.01}, "loss": "l1"},
        [
            "model: MLP with 49 trainable parameters",
            "schedule: constant (no scheduler)",
            "loss: L1Loss()",
            NO_REGULARIZATION,
        ],
    ),
}


def components_table(rows: int = 240, seed: int = 0) -> pa.Table:
    """Four features; a 3-class label, a 2-class label and a numeric target derived from them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    classes = np.argmax(x @ rng.normal(size=(4, 3)), axis=1)
    target = x @ np.array([1.5, -2.0, 0.5, 1.0], dtype=np.float32) + rng.normal(0, 0.1, rows)
    columns = {f"x{i}": x[:, i] for i in range(4)}
    return pa.table(columns | {"label": classes, "positive": (x[:, 0] + x[:, 1] > 0), "target": target})


def recipe(name: str, sections: dict[str, Any]) -> str:
    document: dict[str, Any] = {
        "data": {"dataset": DATASET, "inputs": "x*", "label": "label", "splits": RATIOS},
        "model": {"type": "mlp", "hidden": [8]},
        "optimizer": {"name": "adam"},
        "loss": "cross_entropy",
        "training": {"epochs": 2, "batch_size": 32, "seed": 0},
        "output": {"repo": f"carol/{name.replace(' ', '-')}"},
    }
    for key, value in sections.items():
        document[key] = {**document[key], **value} if key == "data" else value
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture(scope="module")
def jobs() -> Iterator[JobsClient]:
    """A plaza running two jobs at once, with carol's dataset on it."""
    with running_plaza("components", free_port(), PLAZA_JOB_CONCURRENCY="2") as server:
        server.cli("admin", "create-user", "carol", "--password", "carol-password")
        token = server.token("carol")
        api = HfApi(endpoint=server.url, token=token)
        api.create_repo(DATASET, repo_type="dataset")
        buffer = io.BytesIO()
        pq.write_table(components_table(), buffer)
        api.upload_file(
            path_or_fileobj=buffer.getvalue(),
            path_in_repo="rows.parquet",
            repo_id=DATASET,
            repo_type="dataset",
        )
        with JobsClient(server.url, token) as client:
            yield client


def test_each_job_builds_exactly_the_optimiser_loss_schedule_and_regularisers_configured(jobs):
    submitted = {name: jobs.submit(recipe(name, sections))["id"] for name, (sections, _) in JOBS.items()}
    for name, job_id in submitted.items():
        succeeded(jobs, job_id)
        logged = jobs.logs(job_id).splitlines()
        missing = [line for line in JOBS[name][1] if line not in logged]
        assert not missing, f"{name}: not logged {missing}; the log:\n" + "\n".join(logged)
        built = [line for line in logged if line.split(":")[0] in ("optimizer", "schedule", "loss")]
        assert len(built) == 3, built  # each said once

    # The step schedule's halving shows in the learning rates the epochs report.
    epochs = [e["data"] for e in jobs.events(submitted["sgd"]) if e["data"].get("kind") == "epoch"]
    assert [record["lr"] for record in epochs] == [0.05, 0.025]


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "optimizer.momentum: not used by adam"),
        (
            {"optimizer": {"name": "sgd", "nesterov": True}},
            "optimizer.nesterov: needs momentum greater than 0",
        ),
        ({"optimizer": {"name": "lamb"}}, "optimizer.name: "),
        ({"loss": {"name": "mse", "label_smoothing": 0.1}}, "loss.label_smoothing: not used by mse"),
        ({"regularization": {"grad_clip": 0}}, "regularization.grad_clip: must be greater than 0, got 0"),
    ],
)
def test_components_a_recipe_cannot_have_are_refused_before_any_job_runs(jobs, sections, problem):
    before = {job["id"] for job in jobs.list(limit=500)}
    with pytest.raises(JobsApiError) as refused:
        jobs.submit(recipe("refused", sections))
    assert refused.value.status == 400 and problem in refused.value.message
    assert {job["id"] for job in jobs.list(limit=500)} == before
