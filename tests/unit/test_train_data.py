"""From tables to tensors: splits, scaling fitted on the training split, list columns, tokenisers, labels."""

import numpy as np
import pyarrow as pa
import pytest
import torch

from modelplaza.train.data import prepare_data, split_tables
from modelplaza.train.recipe import RecipeError
from tests.unit.train_helpers import (
    FILLER,
    digits_table,
    iris_table,
    prepared,
    recipe,
    tiny_bert,
    topic_table,
)

IRIS = iris_table()


def test_ratio_splits_are_disjoint_complete_and_seeded():
    splits = recipe().data.splits
    parts = split_tables(splits, {"train": IRIS})
    assert {role: t.num_rows for role, t in parts.items()} == {"train": 106, "validation": 22, "test": 22}
    again = split_tables(splits, {"train": IRIS})
    assert all(parts[role].equals(again[role]) for role in parts)
    reseeded = split_tables(splits.model_copy(update={"seed": 1}), {"train": IRIS})
    assert not parts["train"].equals(reseeded["train"])
    rows = sorted(tuple(row.values()) for t in parts.values() for row in t.to_pylist())
    assert rows == sorted(tuple(row.values()) for row in IRIS.to_pylist())


def test_named_splits_are_used_as_they_are_and_labels_come_from_all_of_them():
    tables = {"train": IRIS.slice(0, 100), "validation": IRIS.slice(100, 25), "test": IRIS.slice(125, 25)}
    named = recipe(data={"splits": {"train": "train", "validation": "validation", "test": "test"}})
    data = prepare_data(named, tables)
    assert (len(data.train), len(data.validation), len(data.test)) == (100, 25, 25)
    assert data.preprocessing.labels == ["setosa", "versicolor", "virginica"]  # virginica only after row 100
    assert data.test.targets.tolist() == [2] * 25


def test_missing_splits_and_empty_parts_are_refused():
    named = recipe(data={"splits": {"validation": "dev"}})
    with pytest.raises(RecipeError) as caught:
        prepare_data(named, {"train": IRIS, "test": IRIS})
    assert caught.value.problems == [
        "data.splits.validation: the dataset has no split 'dev'; it has test, train"
    ]
    tiny = recipe(data={"splits": {"ratios": {"train": 0.9, "validation": 0.1}}})
    with pytest.raises(RecipeError, match=r"data.splits.validation: no rows"):
        prepare_data(tiny, {"train": IRIS.slice(0, 4)})


def test_standardising_is_fitted_on_the_training_split_only():
    data = prepared(IRIS, recipe(data={"preprocessing": {"scale": "standard"}}))
    train_rows = split_tables(recipe().data.splits, {"train": IRIS})["train"]
    expected = np.array([train_rows.column(i).to_numpy() for i in range(4)]).T.mean(axis=0)
    assert data.preprocessing.scale["shift"] == pytest.approx(expected.tolist(), rel=1e-5)
    assert data.train.features.mean(dim=0).abs().max() < 1e-5
    assert data.train.features.std(dim=0, unbiased=False).sub(1).abs().max() < 1e-4
    assert data.validation.features.mean(dim=0).abs().max() > 1e-3


def test_min_max_scaling_maps_the_training_split_onto_zero_to_one_and_keeps_constant_pixels():
    data = prepared(digits_table(), recipe(data={"preprocessing": {"scale": "minmax", "reshape": [1, 8, 8]}}))
    flat = data.train.features.reshape(len(data.train), -1)
    assert data.train.features.shape[1:] == (1, 8, 8)
    assert flat.min().item() == 0.0 and flat.max().item() == 1.0
    assert flat[:, 0].abs().max() == 0  # pixel 0 is always blank: factor 1, not a division by zero


def test_list_columns_give_the_same_features_as_flat_columns():
    digits = digits_table()
    pixels = np.stack([digits.column(f"pixel_{i}").to_numpy() for i in range(64)], axis=1)
    fixed = pa.table(
        {
            "pixels": pa.FixedSizeListArray.from_arrays(pa.array(pixels.ravel()), 64),
            "label": digits.column("label"),
        }
    )
    varying = pa.table({"pixels": pa.array(pixels.tolist()), "label": digits.column("label")})
    flat_features = prepared(digits, recipe(data={"inputs": ["pixel_*"]})).train.features
    for table in (fixed, varying):
        assert torch.equal(prepared(table, recipe(data={"inputs": ["pixels"]})).train.features, flat_features)
    with pytest.raises(
        RecipeError, match=r"reshape: \[1, 7, 7\] holds 49 values but the inputs give 64 per row"
    ):
        prepared(varying, recipe(model={"type": "cnn"}, data={"preprocessing": {"reshape": [1, 7, 7]}}))


def test_missing_values_are_named():
    holes = IRIS.set_column(0, "sepal_length", pa.array([None] + IRIS.column(0).to_pylist()[1:]))
    with pytest.raises(RecipeError, match="data.inputs: column 'sepal_length' has 1 missing values"):
        prepared(holes, recipe())
    no_label = IRIS.set_column(4, "label", pa.array([None] * 2 + IRIS.column(4).to_pylist()[2:]))
    with pytest.raises(RecipeError, match=r"data.label: 'label' has \d missing values in the \w+ split"):
        prepared(no_label, recipe())


def test_the_word_tokenizer_learns_its_vocabulary_from_the_training_split():
    texts = ["Goal goal TEAM", "bread soup", "robot chip code server laptop extra words here"] * 10
    table = pa.table({"text": texts + ["zebra goal"] * 5, "label": ["a", "b", "c"] * 10 + ["a"] * 5})
    the_recipe = recipe(
        model={"type": "rnn"},
        data={
            "inputs": ["text"],
            "splits": {"validation": None},
            "preprocessing": {"text": {"max_length": 4, "vocab_size": 12}},
        },
    )
    tables = {"train": table.slice(0, 30), "test": table.slice(30)}
    data = prepare_data(the_recipe, tables)
    tokenizer = data.preprocessing.tokenizer
    assert tokenizer.vocab[:3] == ["<pad>", "<unk>", "goal"] and tokenizer.vocab_size == 12
    assert "zebra" not in tokenizer.vocab
    zebra_goal = data.test.features[0].tolist()
    assert zebra_goal == [1, 2, 0, 0]  # unknown, 'goal', padding
    assert data.train.features[2].tolist()[:4] != [0, 0, 0, 0] and data.train.features.shape[1] == 4


def test_a_hub_tokenizer_serves_a_built_in_model(tmp_path):
    bert = tiny_bert(tmp_path / "bert")
    the_recipe = recipe(
        model={"type": "transformer", "d_model": 16, "num_heads": 2},
        data={
            "inputs": ["text"],
            "preprocessing": {"text": {"tokenizer": "alice/tiny-bert", "max_length": 12}},
        },
    )
    with pytest.raises(ValueError, match="tokenising with alice/tiny-bert needs a fetch function"):
        prepared(topic_table(50), the_recipe)
    data = prepared(topic_table(50), the_recipe, fetch=lambda repo, revision: bert)
    spec = data.preprocessing.input_spec()
    assert spec.vocab_size == 5 + len(FILLER) + 18 and spec.pad_id == 0 and spec.shape == (12,)
    assert data.train.features[:, 0].tolist() == [2] * len(data.train)  # [CLS] first
    assert data.preprocessing.to_dict()["text"] == {
        "kind": "hub",
        "max_length": 12,
        "source": "alice/tiny-bert@main",
    }
