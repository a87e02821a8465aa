"""Hub models and tokenizers through `transformers`: a pretrained model fine-tuned for sequence
classification, and a hub repo's tokenizer used to tokenise text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:  # imported when a hub model is used: transformers is slow to import
    from transformers import PreTrainedModel

# (repo_id, revision) -> a local directory holding that model repo's files. The job system
# downloads through the plaza's HTTP API; tests point at a directory.
RepoFetcher = Callable[[str, str], Path]


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


class HubClassifier(nn.Module):
    """A `transformers` sequence-classification model taking padded token ids, giving logits."""

    def __init__(self, model: PreTrainedModel, pad_id: int) -> None:
        super().__init__()
        self.model = model
        self.pad_id = pad_id

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids, attention_mask=(ids != self.pad_id).long()).logits

    @classmethod
    def pretrained(
        cls, directory: Path, outputs: int, pad_id: int, labels: list[Any] | None
    ) -> HubClassifier:
        """The pretrained body with a new, randomly initialised `outputs`-wide classification head."""
        from transformers import AutoModelForSequenceClassification

        _quiet_transformers()
        names: dict[str, Any] = (
            {"id2label": dict(enumerate(map(str, labels)))} if labels and len(labels) == outputs else {}
        )
        model = AutoModelForSequenceClassification.from_pretrained(
            directory, num_labels=outputs, ignore_mismatched_sizes=True, pad_token_id=pad_id, **names
        )
        return cls(model, pad_id)

    @classmethod
    def load(cls, directory: Path, pad_id: int) -> HubClassifier:
        from transformers import AutoModelForSequenceClassification

        _quiet_transformers()
        return cls(AutoModelForSequenceClassification.from_pretrained(directory), pad_id)

    def save(self, directory: Path) -> None:
        """transformers' own layout (config.json + model.safetensors), so `transformers` loads it too."""
        self.model.save_pretrained(directory)


class HubTokenizer:
    """A hub repo's tokenizer, padding and truncating to a fixed length."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        if tokenizer.pad_token is None:  # decoder-only tokenizers often lack one
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def load(cls, directory: Path, max_length: int) -> HubTokenizer:
        from transformers import AutoTokenizer

        _quiet_transformers()
        return cls(AutoTokenizer.from_pretrained(directory), max_length)

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    def encode(self, texts: list[str]) -> torch.Tensor:
        encoded = self.tokenizer(
            texts, padding="max_length", truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return encoded["input_ids"]

    def save(self, directory: Path) -> None:
        self.tokenizer.save_pretrained(directory)
