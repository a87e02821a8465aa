"""The training loop: reproducible on CPU, reporting metrics as it goes, stopping early when the
validation metric stops improving, and cancellable between steps."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn import metrics as sk
from torch import nn

from modelplaza.train.data import PreparedData, Preprocessing, TensorSplit
from modelplaza.train.finetune import HubClassifier, RepoFetcher
from modelplaza.train.models import build_model, forward_batched, model_config
from modelplaza.train.objectives import Objective
from modelplaza.train.optim import build_optimizer, build_scheduler, describe_optimizer, describe_schedule
from modelplaza.train.recipe import MINIMISED_METRICS, Recipe

MetricsCallback = Callable[[dict[str, Any]], None]


class TrainingCancelled(Exception):
    """should_stop() said so; nothing of the run is kept."""


@dataclass
class TrainResult:
    model: nn.Module  # holding the best epoch's weights
    config: dict[str, Any]  # the architecture, for build_model / save_model
    preprocessing: Preprocessing
    history: list[dict[str, Any]]  # one record per epoch
    best_epoch: int
    validation: dict[str, float] = field(default_factory=dict)  # at the best epoch
    test: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic torch kernels for the run, restoring the caller's setting afterwards."""
    before, warn_only = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)


def evaluation_metrics(task: str, predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    if task == "regression":
        return {
            "mse": float(sk.mean_squared_error(actual, predicted)),
            "mae": float(sk.mean_absolute_error(actual, predicted)),
            "r2": float(sk.r2_score(actual, predicted)) if len(actual) > 1 else 0.0,
        }
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        actual, predicted, average="macro", zero_division=0
    )
    return {
        "accuracy": float(sk.accuracy_score(actual, predicted)),
        "f1": float(f1),
        "precision": float(precision),
        "recall": float(recall),
    }


class Trainer:
    """Model, optimiser, schedule and objective for one recipe on prepared data. `fetch`
    downloads a hub model to fine-tune."""

    def __init__(self, recipe: Recipe, data: PreparedData, fetch: RepoFetcher | None = None) -> None:
        self.recipe = recipe
        self.data = data
        seed = recipe.training.seed
        seed_everything(seed)
        self.model, self.config = _build(recipe, data.preprocessing, fetch)
        regularization = recipe.regularization
        self.objective = Objective(recipe.loss, regularization.l1)
        self.optimizer = build_optimizer(
            recipe.optimizer, self.model.parameters(), regularization.weight_decay
        )
        steps_per_epoch = math.ceil(len(data.train) / recipe.training.batch_size)
        total_steps = steps_per_epoch * recipe.training.epochs
        self.scheduler = build_scheduler(
            recipe.optimizer.schedule, self.optimizer, steps_per_epoch, total_steps
        )
        self.shuffle = torch.Generator().manual_seed(seed)

    def describe(self) -> list[str]:
        """What was built, read back from the torch objects themselves: the model's size, the
        optimiser, the schedule, the loss and the regularisation."""
        parameters = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        clip = self.recipe.regularization.grad_clip
        regularization = {
            "l1": repr(self.objective.l1),
            "weight_decay": repr(self.optimizer.param_groups[0]["weight_decay"]),
            "dropout": _dropout(self.model),
            "grad_clip": "none" if clip is None else f"{clip!r} (max gradient norm)",
        }
        return [
            f"model: {type(self.model).__name__} with {parameters:,} trainable parameters",
            f"optimizer: {describe_optimizer(self.optimizer)}",
            f"schedule: {describe_schedule(self.scheduler)}"
            + (", stepped after every batch" if self.scheduler is not None else ""),
            f"loss: {self.objective.describe()}",
            "regularization: " + ", ".join(f"{key}={value}" for key, value in regularization.items()),
        ]

    def train_step(self, features: torch.Tensor, targets: torch.Tensor) -> float:
        """One optimiser step on a batch; returns the objective (loss + L1 penalty)."""
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.objective(self.model(features), targets) + self.objective.penalty(self.model)
        loss.backward()
        if self.recipe.regularization.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.regularization.grad_clip)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss.item()

    @torch.no_grad()
    def evaluate(self, split: TensorSplit) -> dict[str, float]:
        """The loss (without penalty) and the task's metrics on a split."""
        self.model.eval()
        outputs = forward_batched(self.model, split.features)
        predicted = self.data.preprocessing.predicted(outputs)
        loss = self.objective(outputs, split.targets).item()
        return {"loss": loss} | evaluation_metrics(self.recipe.task, predicted.numpy(), split.targets.numpy())

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        train = self.data.train
        order = torch.randperm(len(train), generator=self.shuffle)
        size = self.recipe.training.batch_size
        for start in range(0, len(train), size):
            rows = order[start : start + size]
            yield train.features[rows], train.targets[rows]

    def fit(
        self, on_metrics: MetricsCallback | None = None, should_stop: Callable[[], bool] | None = None
    ) -> TrainResult:
        """Train for the recipe's epochs; report {"kind": "step" | "epoch" | "test", ...} records
        to on_metrics; raise TrainingCancelled as soon as should_stop() is true."""
        report = on_metrics or (lambda record: None)
        stopping = self.recipe.training.early_stopping
        best = _Best(self.recipe.selection_metric, stopping.min_delta if stopping else 0.0)
        history: list[dict[str, Any]] = []
        stopped_early = False
        with deterministic():
            for epoch in range(1, self.recipe.training.epochs + 1):
                record = self._epoch(epoch, history[-1]["step"] if history else 0, report, should_stop)
                if self.data.validation is not None:
                    validation = self.evaluate(self.data.validation)
                    record |= {f"val_{name}": value for name, value in validation.items()}
                    best.consider(epoch, validation, self.model)
                    stopped_early = stopping is not None and epoch - best.epoch >= stopping.patience
                history.append(record)
                report(record)
                if stopped_early:
                    break
            return self._finish(best, history, stopped_early, report)

    def _epoch(
        self, epoch: int, step: int, report: MetricsCallback, should_stop: Callable[[], bool] | None
    ) -> dict[str, Any]:
        """One pass over the training split, reporting each step; the epoch's record so far."""
        total, lr = 0.0, 0.0
        for features, targets in self.batches():
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"cancelled at epoch {epoch}, step {step}")
            lr = self.optimizer.param_groups[0]["lr"]  # the rate this step uses
            loss = self.train_step(features, targets)
            step += 1
            total += loss * len(targets)
            report({"kind": "step", "epoch": epoch, "step": step, "loss": loss, "lr": lr})
        return {
            "kind": "epoch",
            "epoch": epoch,
            "step": step,
            "train_loss": total / len(self.data.train),
            "lr": lr,
        }

    def _finish(
        self, best: _Best, history: list[dict[str, Any]], stopped_early: bool, report: MetricsCallback
    ) -> TrainResult:
        """Restore the best epoch's weights and score them on the test split."""
        if best.state is not None:
            self.model.load_state_dict(best.state)
        best_epoch = best.epoch or len(history)
        test = self.evaluate(self.data.test) if self.data.test is not None else {}
        if test:
            scores = {f"test_{name}": value for name, value in test.items()}
            # best_epoch, not epoch: the run's progress keeps the epoch it reached.
            report({"kind": "test", "best_epoch": best_epoch, "step": history[-1]["step"]} | scores)
        preprocessing = self.data.preprocessing
        return TrainResult(
            self.model, self.config, preprocessing, history, best_epoch, best.metrics, test, stopped_early
        )


def train(
    recipe: Recipe,
    data: PreparedData,
    *,
    on_metrics: MetricsCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    fetch: RepoFetcher | None = None,
) -> TrainResult:
    """Build everything the recipe names and train it on `data`."""
    return Trainer(recipe, data, fetch).fit(on_metrics, should_stop)


class _Best:
    """The best validation result so far by one metric, with a copy of the weights it came from."""

    def __init__(self, metric: str, min_delta: float) -> None:
        self.metric = metric
        self.sign = -1.0 if metric in MINIMISED_METRICS else 1.0
        self.min_delta = min_delta
        self.score = -math.inf
        self.epoch = 0
        self.metrics: dict[str, float] = {}
        self.state: dict[str, torch.Tensor] | None = None

    def consider(self, epoch: int, metrics: dict[str, float], model: nn.Module) -> None:
        score = self.sign * metrics[self.metric]
        if score > self.score + self.min_delta:
            self.score, self.epoch, self.metrics = score, epoch, metrics
            self.state = {name: value.detach().clone() for name, value in model.state_dict().items()}


def _dropout(model: nn.Module) -> str:
    """The dropout probabilities in the model with the number of layers using each, e.g.
    ``0.2 (3 layers)``; recurrent layers count with the dropout between their stacked layers."""
    layers = Counter(
        float(module.p if isinstance(module, nn.Dropout) else module.dropout)
        for module in model.modules()
        if isinstance(module, nn.Dropout) or (isinstance(module, nn.RNNBase) and module.num_layers > 1)
    )
    if not layers:
        return "none"
    return ", ".join(f"{p!r} ({n} layer{'s' if n > 1 else ''})" for p, n in sorted(layers.items()))


def _build(
    recipe: Recipe, preprocessing: Preprocessing, fetch: RepoFetcher | None
) -> tuple[nn.Module, dict[str, Any]]:
    spec = recipe.model
    if spec.type != "hub":
        config = model_config(
            spec, preprocessing.input_spec(), preprocessing.outputs, recipe.regularization.dropout
        )
        return build_model(config), config
    if fetch is None:
        raise ValueError(f"fine-tuning {spec.repo} needs a fetch function to download it")
    pad_id = preprocessing.input_spec().pad_id
    model = HubClassifier.pretrained(
        fetch(spec.repo, spec.revision), preprocessing.outputs, pad_id, preprocessing.labels
    )
    return model, {"type": "hub", "source": f"{spec.repo}@{spec.revision}", "pad_id": pad_id}
