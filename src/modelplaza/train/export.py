"""Saving a trained model as model.safetensors + config.json (never pickle), and loading it
back for prediction with the same preprocessing.

config.json holds {"modelplaza": {"format", "architecture", "preprocessing"}}. A fine-tuned hub
model is saved in `transformers`' own layout with that key added, so `transformers` loads it too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from torch import nn

from modelplaza.train.data import Preprocessing, Rows, as_table
from modelplaza.train.finetune import HubClassifier
from modelplaza.train.models import build_model, forward_batched

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
FORMAT = 1


def save_model(
    directory: Path | str, model: nn.Module, config: dict[str, Any], preprocessing: Preprocessing
) -> None:
    """Write the weights, config.json and any tokenizer files into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(model, HubClassifier):
        model.save(directory)
        document = json.loads((directory / CONFIG).read_text())
    else:
        safetensors.torch.save_model(model, str(directory / WEIGHTS), metadata={"format": "pt"})
        document = {}
    document["modelplaza"] = {
        "format": FORMAT,
        "architecture": config,
        "preprocessing": preprocessing.to_dict(),
    }
    (directory / CONFIG).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    preprocessing.save_files(directory)


def load_model(directory: Path | str) -> Predictor:
    """A Predictor for a model saved by save_model, architecture rebuilt from config.json."""
    directory = Path(directory)
    document = json.loads((directory / CONFIG).read_text())
    saved = document.get("modelplaza")
    if not saved or saved.get("format") != FORMAT:
        raise ValueError(f"{directory / CONFIG} does not describe a ModelPlaza-trained model")
    config = saved["architecture"]
    if config["type"] == "hub":
        model: nn.Module = HubClassifier.load(directory, config["pad_id"])
    else:
        model = build_model(config)
        safetensors.torch.load_model(model, str(directory / WEIGHTS), strict=True)
    return Predictor(model.eval(), config, Preprocessing.from_dict(saved["preprocessing"], directory))


class Predictor:
    """Predictions from rows: a pyarrow table, a pandas DataFrame or a list of mappings
    holding the model's input columns."""

    def __init__(self, model: nn.Module, config: dict[str, Any], preprocessing: Preprocessing) -> None:
        self.model = model
        self.config = config
        self.preprocessing = preprocessing

    @property
    def labels(self) -> list[Any] | None:
        return self.preprocessing.labels

    @torch.no_grad()
    def outputs(self, rows: Rows) -> torch.Tensor:
        """The model's raw outputs (logits or values), one row per input row."""
        table = as_table(rows)
        if not table.num_rows:
            return torch.zeros(0, self.preprocessing.outputs)
        return forward_batched(self.model, self.preprocessing.features(table))

    def predict(self, rows: Rows) -> list[Any]:
        """A label (classification) or value (regression) per row."""
        return self.preprocessing.decode(self.outputs(rows))

    def predict_proba(self, rows: Rows) -> list[list[float]]:
        """Class probabilities per row, in the order of `labels`."""
        if self.labels is None:
            raise ValueError("a regression model gives values, not class probabilities")
        return self.preprocessing.probabilities(self.outputs(rows)).tolist()
