"""Losses (torch's own modules) adapted to the models' raw outputs, and the L1 penalty."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from modelplaza.train.recipe import REGRESSION_LOSSES, LossSpec

CRITERIA: dict[str, Callable[[LossSpec], nn.Module]] = {
    "cross_entropy": lambda spec: nn.CrossEntropyLoss(label_smoothing=spec.label_smoothing),
    "nll": lambda spec: nn.NLLLoss(),
    "bce": lambda spec: nn.BCEWithLogitsLoss(),
    "multi_margin": lambda spec: nn.MultiMarginLoss(),
    "mse": lambda spec: nn.MSELoss(),
    "l1": lambda spec: nn.L1Loss(),
    "huber": lambda spec: nn.HuberLoss(delta=spec.delta),
    "smooth_l1": lambda spec: nn.SmoothL1Loss(beta=spec.beta),
}
# The criteria's own settings (torch's loss modules print none of them).
CRITERION_FIELDS = {
    "CrossEntropyLoss": ("label_smoothing",),
    "HuberLoss": ("delta",),
    "SmoothL1Loss": ("beta",),
}
# What a criterion is applied to, where it is not the raw outputs as they are.
APPLIED_TO = {"nll": " on log_softmax(outputs)", "bce": " on one logit per example"}


class Objective:
    """What training minimises: the configured loss on the model's raw outputs (logits or
    values) plus `l1` times the sum of absolute parameter values."""

    def __init__(self, spec: LossSpec, l1: float = 0.0) -> None:
        self.name = spec.name
        self.criterion = CRITERIA[spec.name](spec)
        self.l1 = l1

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.name == "nll":  # NLL takes log-probabilities; the models give logits
            return self.criterion(torch.log_softmax(outputs, dim=-1), targets)
        if self.name == "bce":
            return self.criterion(outputs.squeeze(-1), targets.float())
        if self.name in REGRESSION_LOSSES:
            return self.criterion(outputs.squeeze(-1), targets)
        return self.criterion(outputs, targets)

    def describe(self) -> str:
        """The criterion as built, e.g. ``CrossEntropyLoss(label_smoothing=0.1)``."""
        name = type(self.criterion).__name__
        fields = ", ".join(
            f"{key}={getattr(self.criterion, key)!r}" for key in CRITERION_FIELDS.get(name, ())
        )
        return f"{name}({fields}){APPLIED_TO.get(self.name, '')}"

    def penalty(self, model: nn.Module) -> torch.Tensor:
        if not self.l1:
            return torch.zeros(())
        return self.l1 * sum((p.abs().sum() for p in model.parameters() if p.requires_grad), torch.zeros(()))
