"""Tiny data sets and recipes for the training tests."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from sklearn.datasets import load_diabetes, load_digits, load_iris

from modelplaza.train.data import PreparedData, prepare_data
from modelplaza.train.recipe import Recipe, parse_recipe

torch.set_num_threads(1)  # two shared cores; one thread also keeps runs comparable

TOPICS = {
    "sport": ["goal", "match", "team", "score", "coach", "league"],
    "food": ["bread", "cheese", "soup", "salad", "recipe", "bake"],
    "tech": ["code", "server", "laptop", "robot", "chip", "software"],
}
FILLER = ["the", "a", "today", "we", "saw", "some", "very", "and", "with", "new", "old", "big", "of", "it"]

BASE: dict[str, Any] = {
    "data": {"dataset": "alice/data", "inputs": ["*"], "label": "label"},
    "model": {"type": "mlp"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "loss": "cross_entropy",
    "training": {"epochs": 5, "batch_size": 16, "seed": 0},
    "output": {"repo": "alice/model"},
}
RATIOS = {"ratios": {"train": 0.7, "validation": 0.15, "test": 0.15}, "seed": 0}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` merged in, nested mappings key by key; None removes a key."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def recipe(**changes: Any) -> Recipe:
    """The base recipe (an MLP on every column but the label, split by ratios unless `data`
    changes give other splits) with changes."""
    base = BASE if "splits" in changes.get("data", {}) else merged(BASE, {"data": {"splits": RATIOS}})
    return parse_recipe(merged(base, changes))


def digits_table() -> pa.Table:
    digits = load_digits()
    columns = {f"pixel_{i}": digits.data[:, i].astype(np.float32) for i in range(64)}
    return pa.table(columns | {"label": digits.target})


def iris_table() -> pa.Table:
    iris = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return pa.table(
        {name: iris.data[:, i] for i, name in enumerate(names)} | {"label": iris.target_names[iris.target]}
    )


def diabetes_table() -> pa.Table:
    diabetes = load_diabetes()
    return pa.table({f"x{i}": diabetes.data[:, i] for i in range(10)} | {"label": diabetes.target})


def sum_sign_table(rows: int = 1200, length: int = 8, seed: int = 0) -> pa.Table:
    """Sequences of numbers in [-1, 1]; the label says whether their sum is positive."""
    values = np.random.default_rng(seed).uniform(-1, 1, size=(rows, length)).astype(np.float32)
    return pa.table(
        {f"x{i}": values[:, i] for i in range(length)} | {"label": (values.sum(axis=1) > 0).astype(int)}
    )


def topic_table(rows: int = 900, seed: int = 0) -> pa.Table:
    """Short generated texts, each with one or two words of its topic among filler words."""
    generator = random.Random(seed)
    texts, labels = [], []
    for _ in range(rows):
        topic = generator.choice(sorted(TOPICS))
        words = generator.choices(FILLER, k=generator.randint(3, 9))
        for word in generator.sample(TOPICS[topic], generator.randint(1, 2)):
            words.insert(generator.randint(0, len(words)), word)
        texts.append(" ".join(words))
        labels.append(topic)
    return pa.table({"text": texts, "label": labels})


def prepared(table: pa.Table, the_recipe: Recipe, **options: Any) -> PreparedData:
    return prepare_data(the_recipe, {"train": table}, **options)


def tiny_bert(directory: Path) -> Path:
    """A randomly initialised two-layer BERT and its word-piece tokenizer knowing the topic words."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    words = sorted({*FILLER, *(word for topic in TOPICS.values() for word in topic)})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)}).save_pretrained(directory)
    config = BertConfig(
        vocab_size=5 + len(words),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(directory)
    return directory
