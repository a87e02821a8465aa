"""From dataset tables to tensors, following a recipe's data section.

Everything learned from data (scaling statistics, the word vocabulary, the label set) is fitted
on the training split only and kept in a `Preprocessing`, which is saved in the trained model's
config.json so that prediction transforms its inputs exactly as training did."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from modelplaza.errors import BadRequest
from modelplaza.train.checks import check_against, is_list, shape_problems
from modelplaza.train.finetune import HubTokenizer, RepoFetcher
from modelplaza.train.models import InputSpec
from modelplaza.train.recipe import Recipe, RecipeError, Splits, TextSpec

Rows: TypeAlias = pa.Table | Sequence[Mapping[str, Any]] | Any  # Any: a pandas DataFrame
_WORD = re.compile(r"\w+|[^\w\s]")


class WordTokenizer:
    """Words and punctuation; ids 0 (padding) and 1 (unknown word) come first, then the
    vocabulary by descending frequency in the training texts."""

    pad_id = 0
    unknown_id = 1

    def __init__(self, vocab: list[str], max_length: int, lowercase: bool) -> None:
        self.vocab = vocab
        self.max_length = max_length
        self.lowercase = lowercase
        self.index = {word: i for i, word in enumerate(vocab)}

    @classmethod
    def fit(cls, texts: list[str], spec: TextSpec) -> WordTokenizer:
        counts = Counter(word for text in texts for word in cls._words(text, spec.lowercase))
        ranked = sorted(counts, key=lambda word: (-counts[word], word))[: spec.vocab_size - 2]
        return cls(["<pad>", "<unk>", *ranked], spec.max_length, spec.lowercase)

    @staticmethod
    def _words(text: str, lowercase: bool) -> list[str]:
        return _WORD.findall(text.lower() if lowercase else text)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, texts: list[str]) -> torch.Tensor:
        rows = []
        for text in texts:
            ids = [self.index.get(word, self.unknown_id) for word in self._words(text, self.lowercase)]
            ids = ids[: self.max_length]
            rows.append(ids + [self.pad_id] * (self.max_length - len(ids)))
        return torch.tensor(rows, dtype=torch.long).reshape(len(texts), self.max_length)

    def state(self) -> dict[str, Any]:
        return {
            "kind": "word",
            "vocab": self.vocab,
            "max_length": self.max_length,
            "lowercase": self.lowercase,
        }


Tokenizer = WordTokenizer | HubTokenizer


@dataclass
class Preprocessing:
    """The fitted input and label transforms, and how to read the model's outputs (`head`:
    softmax over classes, sigmoid for two classes, or a plain value for regression)."""

    columns: list[str]
    label: str
    task: str
    head: str
    labels: list[Any] | None
    shape: list[int]
    scale: dict[str, Any] | None = None
    tokenizer: Tokenizer | None = field(default=None, repr=False)
    tokenizer_source: str | None = None

    @property
    def outputs(self) -> int:
        return len(self.labels) if self.labels is not None and self.head == "softmax" else 1

    def input_spec(self) -> InputSpec:
        if self.tokenizer is None:
            return InputSpec(tuple(self.shape))
        return InputSpec(tuple(self.shape), self.tokenizer.vocab_size, self.tokenizer.pad_id)

    def features(self, rows: Rows) -> torch.Tensor:
        table = as_table(rows)
        missing = [name for name in self.columns if name not in table.column_names]
        if missing:
            raise BadRequest(
                f"missing input column(s) {', '.join(missing)}; the model reads {', '.join(self.columns)}"
            )
        if self.tokenizer is not None:
            texts = [text or "" for text in table.column(self.columns[0]).to_pylist()]
            return self.tokenizer.encode(texts)
        matrix = numeric_matrix(table, self.columns)
        if self.scale is not None:
            shift, factor = (np.asarray(self.scale[key], np.float32) for key in ("shift", "factor"))
            matrix = (matrix - shift) / factor
        return torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32)).reshape(-1, *self.shape)

    def targets(self, table: pa.Table, split: str) -> torch.Tensor:
        column = table.column(self.label)
        if column.null_count:
            raise RecipeError(
                [f"data.label: {self.label!r} has {column.null_count} missing values in the {split} split"]
            )
        if self.labels is None:
            return torch.from_numpy(column.to_numpy().astype(np.float32))
        indices = pc.index_in(column, value_set=pa.array(self.labels, type=column.type))
        return torch.from_numpy(indices.to_numpy().astype(np.int64))

    def predicted(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class indices (classification) or values (regression) from raw model outputs."""
        if self.head == "softmax":
            return outputs.argmax(dim=-1)
        if self.head == "sigmoid":
            return (outputs.squeeze(-1) > 0).long()
        return outputs.squeeze(-1)

    def probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        if self.head == "sigmoid":
            positive = torch.sigmoid(outputs.squeeze(-1))
            return torch.stack([1 - positive, positive], dim=-1)
        return torch.softmax(outputs, dim=-1)

    def decode(self, outputs: torch.Tensor) -> list[Any]:
        values = self.predicted(outputs).tolist()
        return values if self.labels is None else [self.labels[i] for i in values]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able state saved in config.json."""
        text = None
        if isinstance(self.tokenizer, WordTokenizer):
            text = self.tokenizer.state()
        elif self.tokenizer is not None:
            text = {"kind": "hub", "max_length": self.tokenizer.max_length, "source": self.tokenizer_source}
        keys = ("columns", "label", "task", "head", "labels", "shape", "scale")
        return {key: getattr(self, key) for key in keys} | {"text": text}

    @classmethod
    def from_dict(cls, state: dict[str, Any], directory: Path) -> Preprocessing:
        """Rebuild from to_dict's state; a hub tokenizer is read from the model's directory."""
        text = state.get("text")
        options = {key: value for key, value in state.items() if key != "text"}
        if text is None:
            return cls(**options)
        if text["kind"] == "word":
            tokenizer: Tokenizer = WordTokenizer(text["vocab"], text["max_length"], text["lowercase"])
        else:
            tokenizer = HubTokenizer.load(directory, text["max_length"])
        return cls(**options, tokenizer=tokenizer, tokenizer_source=text.get("source"))

    def save_files(self, directory: Path) -> None:
        """Files the state needs besides config.json: a hub tokenizer's own files."""
        if isinstance(self.tokenizer, HubTokenizer):
            self.tokenizer.save(directory)


@dataclass
class TensorSplit:
    features: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return len(self.targets)


@dataclass
class PreparedData:
    train: TensorSplit
    validation: TensorSplit | None
    test: TensorSplit | None
    preprocessing: Preprocessing


def prepare_data(
    recipe: Recipe, tables: Mapping[str, pa.Table], fetch: RepoFetcher | None = None
) -> PreparedData:
    """Tensors for the train / validation / test splits of `tables` (split name -> table), with
    preprocessing fitted on the training split. `fetch` is needed for a hub tokenizer only.
    Raises RecipeError when the recipe does not fit the data."""
    splits = recipe.data.splits
    first = tables[splits.train] if splits.train in tables else next(iter(tables.values()), pa.table({}))
    columns = check_against(recipe, first.schema, splits=list(tables))
    parts = split_tables(splits, tables)
    labels = _classes(parts, recipe.data.label) if recipe.task == "classification" else None
    for table in parts.values():
        check_against(recipe, table.schema, len(labels) if labels else None)
    preprocessing = _fit(recipe, columns, labels, parts["train"], fetch)
    tensors = {
        role: TensorSplit(preprocessing.features(table), preprocessing.targets(table, role))
        for role, table in parts.items()
    }
    return PreparedData(tensors["train"], tensors.get("validation"), tensors.get("test"), preprocessing)


def split_tables(splits: Splits, tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Role (train / validation / test) -> table: the named splits, or the train split cut by ratios."""
    if splits.ratios is None:
        named = {"train": splits.train, "validation": splits.validation, "test": splits.test}
        parts = {role: tables[name] for role, name in named.items() if name is not None}
    else:
        source = tables[splits.train]
        order = np.random.default_rng(splits.seed).permutation(source.num_rows)
        sizes = [round(source.num_rows * getattr(splits.ratios, role)) for role in ("validation", "test")]
        bounds = np.cumsum([source.num_rows - sum(sizes), *sizes])
        chosen = dict(zip(("train", "validation", "test"), np.split(order, bounds[:-1]), strict=True))
        parts = {
            role: source.take(pa.array(rows))
            for role, rows in chosen.items()
            if getattr(splits.ratios, role) > 0
        }
    empty = [f"data.splits.{role}: no rows" for role, table in parts.items() if table.num_rows == 0]
    if empty:
        raise RecipeError(empty)
    return parts


def numeric_matrix(table: pa.Table, columns: list[str]) -> np.ndarray:
    """One float32 row per table row: scalar columns give one value, list columns several."""
    blocks = []
    for name in columns:
        column = table.column(name).combine_chunks()
        if column.null_count:
            raise RecipeError([f"data.inputs: column {name!r} has {column.null_count} missing values"])
        if is_list(column.type):
            lengths = pc.unique(pc.list_value_length(column)).to_pylist()
            if len(lengths) > 1:
                raise RecipeError(
                    [f"data.inputs: column {name!r} holds lists of different lengths {sorted(lengths)}"]
                )
            flat = column.flatten().to_numpy(zero_copy_only=False)
            blocks.append(flat.astype(np.float32).reshape(len(column), lengths[0] if lengths else 0))
        else:
            blocks.append(column.to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, 1))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((table.num_rows, 0), np.float32)


def as_table(rows: Rows) -> pa.Table:
    """A pyarrow table from a table, a pandas DataFrame or a list of row mappings."""
    if isinstance(rows, pa.Table):
        return rows
    if hasattr(rows, "columns") and hasattr(rows, "to_dict"):
        return pa.Table.from_pandas(rows, preserve_index=False)
    return pa.Table.from_pylist(list(rows))


def _classes(parts: Mapping[str, pa.Table], label: str) -> list[Any]:
    values: set[Any] = set()
    for table in parts.values():
        values.update(value for value in pc.unique(table.column(label)).to_pylist() if value is not None)
    return sorted(values)


def _fit(
    recipe: Recipe, columns: list[str], labels: list[Any] | None, train: pa.Table, fetch: RepoFetcher | None
) -> Preprocessing:
    head = "value" if labels is None else "sigmoid" if recipe.loss.name == "bce" else "softmax"
    base: dict[str, Any] = {
        "columns": columns,
        "label": recipe.data.label,
        "task": recipe.task,
        "head": head,
        "labels": labels,
    }
    pre = recipe.data.preprocessing
    if pre.text is not None:
        tokenizer, source = _tokenizer(recipe, pre.text, train.column(columns[0]).to_pylist(), fetch)
        return Preprocessing(
            **base, shape=[tokenizer.max_length], tokenizer=tokenizer, tokenizer_source=source
        )
    matrix = numeric_matrix(train, columns)
    shape = list(pre.reshape or [matrix.shape[1]])
    problems = shape_problems(shape, matrix.shape[1])
    if problems:
        raise RecipeError(problems)
    return Preprocessing(**base, shape=shape, scale=_scale(pre.scale, matrix))


def _scale(kind: str, matrix: np.ndarray) -> dict[str, Any] | None:
    """Per-feature shift and factor so that (x - shift) / factor is standardised or in [0, 1]."""
    if kind == "none":
        return None
    if kind == "standard":
        shift, factor = matrix.mean(axis=0), matrix.std(axis=0)
    else:
        shift, factor = matrix.min(axis=0), matrix.max(axis=0) - matrix.min(axis=0)
    factor = np.where(factor > 0, factor, 1.0)  # a constant feature stays put
    return {"kind": kind, "shift": shift.tolist(), "factor": factor.tolist()}


def _tokenizer(
    recipe: Recipe, text: TextSpec, texts: list[str | None], fetch: RepoFetcher | None
) -> tuple[Tokenizer, str | None]:
    model = recipe.model
    if model.type == "hub":
        repo, revision = model.repo, model.revision
    elif text.tokenizer != "word":
        repo, revision = text.tokenizer, text.revision
    else:
        return WordTokenizer.fit([t or "" for t in texts], text), None
    if fetch is None:
        raise ValueError(f"tokenising with {repo} needs a fetch function to download it")
    return HubTokenizer.load(fetch(repo, revision), text.max_length), f"{repo}@{revision}"
