"""The first recipe the Train button offers: it fits the dataset it was drafted for (the same
checks a submitted recipe goes through), and picks the architecture the columns suggest."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from modelplaza.data.columns import describe
from modelplaza.train.checks import check_against
from modelplaza.train.draft import draft_recipe, guess_label
from modelplaza.train.recipe import RecipeError, load_recipe

SPLITS = ["train", "validation", "test"]


def schema(**columns: pa.DataType) -> pa.Schema:
    return pa.schema(list(columns.items()))


def drafted(table: pa.Schema, splits: list[str] = SPLITS, dataset: str = "alice/things") -> dict:
    """The draft as data, after checking it the way a submitted recipe is checked."""
    text = draft_recipe(dataset, "main", "bob", splits, describe(table))
    check_against(load_recipe(text), table, splits=splits)
    return yaml.safe_load(text)


def test_pixels_get_a_cnn_over_square_images_and_a_glob():
    pixels = {f"pixel_{i}": pa.float32() for i in range(64)}
    recipe = drafted(schema(**pixels, label=pa.int64()), dataset="alice/digits")
    assert recipe["data"]["inputs"] == "pixel_*"
    assert recipe["data"]["preprocessing"] == {"scale": "standard", "reshape": [1, 8, 8]}
    assert recipe["model"]["type"] == "cnn"
    assert recipe["data"]["splits"] == {"train": "train", "validation": "validation", "test": "test"}
    assert recipe["training"]["early_stopping"] == {"metric": "loss", "patience": 3}
    assert recipe["output"] == {"repo": "bob/digits-cnn", "private": False}


def test_measurements_get_an_mlp_and_a_text_label_is_a_class():
    table = schema(
        sepal=pa.float64(), petal=pa.float64(), flag=pa.bool_(), name=pa.string(), species=pa.string()
    )
    recipe = drafted(table)
    assert recipe["data"]["label"] == "species"  # the last column: no label-like name
    assert recipe["data"]["inputs"] == ["sepal", "petal", "flag"]  # numbers only
    assert recipe["model"] == {"type": "mlp", "hidden": [64]}
    assert recipe["loss"] == {"name": "cross_entropy"}


def test_a_float_target_is_regression_and_named_labels_win_over_position():
    recipe = drafted(schema(target=pa.float64(), x=pa.float64(), y=pa.int32()))
    assert recipe["data"]["label"] == "target"
    assert recipe["data"]["inputs"] == ["x", "y"]
    assert recipe["loss"] == {"name": "mse"}


def test_a_lone_text_column_gets_a_transformer_with_a_word_tokenizer():
    recipe = drafted(schema(text=pa.string(), label=pa.int64()), splits=["train", "test"])
    assert recipe["data"]["inputs"] == "text"
    assert recipe["data"]["preprocessing"] == {"text": {"tokenizer": "word", "max_length": 64}}
    assert recipe["model"]["type"] == "transformer"
    assert recipe["data"]["splits"]["validation"] is None
    assert "early_stopping" not in recipe["training"]  # nothing to stop on without validation


def test_one_split_is_cut_by_ratios():
    recipe = drafted(schema(a=pa.float64(), label=pa.int64()), splits=["train"])
    assert recipe["data"]["splits"] == {
        "train": "train",
        "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
        "seed": 0,
    }


def test_a_glob_is_only_used_when_it_picks_exactly_the_inputs():
    columns = {f"f{i}": pa.float64() for i in range(10)} | {"f_note": pa.string()}
    recipe = drafted(schema(**columns, label=pa.int64()))
    assert recipe["data"]["inputs"] == [f"f{i}" for i in range(10)]


def test_a_long_dataset_name_still_gives_a_valid_model_name():
    recipe = drafted(schema(a=pa.float64(), label=pa.int64()), dataset="alice/" + "d" * 95 + "x")
    assert recipe["output"]["repo"] == "bob/" + "d" * 92 + "-mlp"


def test_without_usable_columns_the_draft_asks_for_inputs():
    assert guess_label([]) is None
    text = draft_recipe("alice/empty", "main", "bob", [], [])
    with pytest.raises(RecipeError) as refused:
        load_recipe(text)
    assert refused.value.problems == ["data.inputs: must have at least 1 item"]
