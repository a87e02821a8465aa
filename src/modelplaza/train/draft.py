"""A first recipe for a dataset, from its split names and the columns of its training split: a
starting point that validates as it is (when the dataset has numeric or text columns), for a
person to adjust before submitting it.

The guesses: the label is the column named label, target or class (else the last one); the
inputs are the other numeric columns (a glob when they share a prefix); a square image's worth
of them (8x8 and up) gets a CNN, other numbers an MLP, text without numbers a transformer. The
model goes to a new repo of the owner's, ``{dataset}-{model}``, numbered (``-2``, ``-3``, …)
past the names already taken, so that training again never commits onto an earlier model."""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Sequence

import yaml

from modelplaza.data.columns import Column

LABEL_NAMES = ("label", "target", "class")
# Inputs listed one by one up to this many; more that share a prefix become `prefix*`.
LISTED_INPUTS = 8
# The smallest picture (side x side numbers) that is worth a CNN.
MIN_IMAGE_SIDE = 8
MAX_NAME = 96
FLOAT_TYPES = ("halffloat", "float", "double")


def guess_label(columns: Sequence[Column]) -> Column | None:
    by_name = {column.name.lower(): column for column in columns}
    found = next((by_name[name] for name in LABEL_NAMES if name in by_name), None)
    return found or (columns[-1] if columns else None)


def draft_recipe(
    dataset: str,
    revision: str,
    owner: str,
    splits: Sequence[str],
    columns: Sequence[Column],
    taken: Collection[str] = (),
) -> str:
    """The recipe as YAML, in the order people read it: data, model, optimiser, loss, training,
    output. ``columns`` are those of the training split's first file; ``taken`` the model names
    in use in the owner's namespace (any case), which the output's name avoids."""
    label = guess_label(columns)
    features = [c for c in columns if c is not label]
    inputs, preprocessing, model = _architecture(features)
    split_part = _splits(splits)
    training: dict = {"epochs": 10, "batch_size": 32, "seed": 0}
    if split_part.get("validation") or "ratios" in split_part:
        training["early_stopping"] = {"metric": "loss", "patience": 3}
    recipe = {
        "data": {
            "dataset": dataset,
            "revision": revision,
            "splits": split_part,
            "inputs": inputs,
            "label": label.name if label else "label",
            "preprocessing": preprocessing,
        },
        "model": model,
        "optimizer": {"name": "adam", "lr": 0.001},
        "loss": {"name": "mse" if label is not None and label.type in FLOAT_TYPES else "cross_entropy"},
        "training": training,
        "output": {
            "repo": f"{owner}/{fresh_name(_model_name(dataset, model['type']), taken)}",
            "private": False,
        },
    }
    return yaml.dump(recipe, Dumper=_Dumper, sort_keys=False, width=100)


def _architecture(features: list[Column]) -> tuple[list[str] | str, dict, dict]:
    """Inputs, preprocessing and model for these non-label columns."""
    numbers = [c.name for c in features if c.kind in ("number", "boolean")]
    texts = [c.name for c in features if c.kind == "string"]
    if texts and not numbers:
        text = {"text": {"tokenizer": "word", "max_length": 64}}
        return texts[0], text, {"type": "transformer", "d_model": 64, "num_heads": 4, "num_layers": 2}
    inputs = _inputs(numbers, [c.name for c in features])
    side = math.isqrt(len(numbers))
    if side >= MIN_IMAGE_SIDE and side * side == len(numbers):
        image = {"scale": "standard", "reshape": [1, side, side]}
        return inputs, image, {"type": "cnn", "channels": [16, 32], "hidden": [64]}
    return inputs, {"scale": "standard"}, {"type": "mlp", "hidden": [64]}


class _Dumper(yaml.SafeDumper):
    """Sections as blocks, one setting a line; lists on one line (``[1, 8, 8]``)."""


_Dumper.add_representer(
    list, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)
)


def _splits(names: Sequence[str]) -> dict:
    """The dataset's own splits where it has them; a single split is cut 80 / 10 / 10."""
    if len(names) <= 1:
        train = names[0] if names else "train"
        return {"train": train, "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1}, "seed": 0}
    train = "train" if "train" in names else names[0]
    return {
        "train": train,
        "validation": "validation" if "validation" in names else None,
        "test": "test" if "test" in names else None,
    }


def _inputs(names: list[str], others: list[str]) -> list[str] | str:
    """Many inputs as one glob when it picks exactly them among the non-label columns."""
    prefix = os.path.commonprefix(names) if len(names) > LISTED_INPUTS else ""
    if prefix and [name for name in others if name.startswith(prefix)] == names:
        return f"{prefix}*"
    return names


def _model_name(dataset: str, model: str) -> str:
    suffix = f"-{model}"
    return dataset.split("/")[-1][: MAX_NAME - len(suffix)].rstrip("-._") + suffix


def fresh_name(name: str, taken: Collection[str]) -> str:
    """``name``, or the first of ``name-2``, ``name-3``, … that is not in ``taken`` (any case),
    kept within MAX_NAME characters."""
    used = {other.lower() for other in taken}
    number = 1
    candidate = name
    while candidate.lower() in used:
        number += 1
        suffix = f"-{number}"
        candidate = name[: MAX_NAME - len(suffix)].rstrip("-._") + suffix
    return candidate
