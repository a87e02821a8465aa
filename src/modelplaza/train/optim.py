"""torch optimisers and learning-rate schedules built from a recipe's optimizer section, and
their descriptions, read back from the built objects, for a job's log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.optim import lr_scheduler

from modelplaza.train.recipe import OptimizerSpec, Schedule


def build_optimizer(
    spec: OptimizerSpec, parameters: Iterable[torch.nn.Parameter], weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """The torch optimiser named by the recipe; `weight_decay` is L2 (decoupled for AdamW)."""
    common: dict[str, Any] = {"lr": spec.lr, "weight_decay": weight_decay}
    if spec.name == "sgd":
        return torch.optim.SGD(parameters, momentum=spec.momentum, nesterov=spec.nesterov, **common)
    if spec.name == "adagrad":
        return torch.optim.Adagrad(parameters, eps=spec.eps, **common)
    if spec.name == "rmsprop":
        return torch.optim.RMSprop(
            parameters, alpha=spec.alpha, eps=spec.eps, momentum=spec.momentum, **common
        )
    adam = torch.optim.Adam if spec.name == "adam" else torch.optim.AdamW
    return adam(parameters, betas=spec.betas, eps=spec.eps, **common)


def build_scheduler(
    spec: Schedule, optimizer: torch.optim.Optimizer, steps_per_epoch: int, total_steps: int
) -> lr_scheduler.LRScheduler | None:
    """A schedule stepped after every optimiser step, or None for a constant rate."""
    decay_steps = max(1, total_steps - spec.warmup_steps)
    lr = optimizer.param_groups[0]["lr"]
    main: lr_scheduler.LRScheduler | None
    if spec.name == "step":
        main = lr_scheduler.StepLR(optimizer, step_size=spec.step_size * steps_per_epoch, gamma=spec.gamma)
    elif spec.name == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=decay_steps, eta_min=spec.min_lr)
    elif spec.name == "linear":
        main = lr_scheduler.LinearLR(optimizer, 1.0, spec.min_lr / lr, total_iters=decay_steps)
    else:
        main = None
    if not spec.warmup_steps:
        return main
    warmup = lr_scheduler.LinearLR(optimizer, 1 / (spec.warmup_steps + 1), 1.0, total_iters=spec.warmup_steps)
    if main is None:
        return warmup
    return lr_scheduler.SequentialLR(optimizer, [warmup, main], milestones=[spec.warmup_steps])


# param_groups entries that choose how torch computes a step, not what the step is.
IMPLEMENTATION_FLAGS = {
    "params",
    "initial_lr",
    "foreach",
    "fused",
    "capturable",
    "differentiable",
    "maximize",
}
SCHEDULE_FIELDS = {
    "StepLR": ("step_size", "gamma"),
    "CosineAnnealingLR": ("T_max", "eta_min"),
    "LinearLR": ("start_factor", "end_factor", "total_iters"),
}


def _call(name: str, fields: dict[str, Any]) -> str:
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in fields.items())})"


def describe_optimizer(optimizer: torch.optim.Optimizer) -> str:
    """The optimiser's class and hyper-parameters as torch holds them, e.g.
    ``AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, ...)``. ``lr`` is the
    base rate, before any warm-up scales it."""
    group = optimizer.param_groups[0]
    fields = {"lr": group.get("initial_lr", group["lr"])}
    fields |= {key: value for key, value in group.items() if key not in IMPLEMENTATION_FLAGS | {"lr"}}
    return _call(type(optimizer).__name__, fields)


def describe_schedule(scheduler: lr_scheduler.LRScheduler | None) -> str:
    """The schedule as torch built it, e.g. ``CosineAnnealingLR(T_max=400, eta_min=0.0)``, its
    steps counted in batches; warm-up then decay is a SequentialLR of both."""
    if scheduler is None:
        return "constant (no scheduler)"
    if isinstance(scheduler, lr_scheduler.SequentialLR):
        # torch keeps a SequentialLR's parts in private attributes only.
        parts = ", ".join(describe_schedule(part) for part in scheduler._schedulers)
        return f"SequentialLR([{parts}], milestones={scheduler._milestones!r})"
    name = type(scheduler).__name__
    return _call(name, {key: getattr(scheduler, key) for key in SCHEDULE_FIELDS[name]})
