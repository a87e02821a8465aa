"""Saving as safetensors + config.json and loading back for prediction."""

import json

import pyarrow as pa
import pytest
import safetensors
import torch

from modelplaza.errors import BadRequest
from modelplaza.train.export import load_model, save_model
from modelplaza.train.trainer import train
from tests.unit.train_helpers import diabetes_table, digits_table, iris_table, prepared, recipe, topic_table


def trained(the_recipe, table, directory):
    data = prepared(table, the_recipe)
    result = train(the_recipe, data)
    save_model(directory, result.model, result.config, result.preprocessing)
    return result, data


def test_a_cnn_round_trips_through_safetensors_and_config_json(tmp_path):
    cnn = recipe(
        data={"inputs": ["pixel_*"], "preprocessing": {"scale": "standard", "reshape": [1, 8, 8]}},
        model={"type": "cnn", "channels": [8], "hidden": [16]},
        regularization={"dropout": 0.2},
        training={"epochs": 2},
    )
    digits = digits_table()
    result, data = trained(cnn, digits, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json", "model.safetensors"]

    saved = json.loads((tmp_path / "config.json").read_text())["modelplaza"]
    assert saved["architecture"] == result.config and saved["architecture"]["type"] == "cnn"
    assert (
        saved["preprocessing"]["shape"] == [1, 8, 8] and len(saved["preprocessing"]["scale"]["shift"]) == 64
    )
    assert saved["preprocessing"]["labels"] == list(range(10))
    with safetensors.safe_open(tmp_path / "model.safetensors", framework="pt") as weights:
        assert set(weights.keys()) == set(result.model.state_dict())

    predictor = load_model(tmp_path)
    rows = digits.slice(0, 50)
    expected = result.model.eval()(result.preprocessing.features(rows))
    assert torch.equal(predictor.outputs(rows), expected)
    assert predictor.predict(rows) == expected.argmax(dim=1).tolist()
    assert (
        predictor.predict(rows.to_pylist()) == predictor.predict(rows.to_pandas()) == predictor.predict(rows)
    )


def test_a_text_model_keeps_its_vocabulary_and_string_labels(tmp_path):
    transformer = recipe(
        model={"type": "transformer", "d_model": 16, "num_heads": 2, "num_layers": 1},
        data={"inputs": ["text"], "preprocessing": {"text": {"max_length": 12}}},
        optimizer={"name": "adam", "lr": 0.005},
    )
    result, _ = trained(transformer, topic_table(300), tmp_path)
    predictor = load_model(tmp_path)
    assert predictor.labels == ["food", "sport", "tech"]
    rows = [{"text": "the coach saw a new team"}, {"text": "we bake bread"}, {"text": "a robot with a chip"}]
    probabilities = predictor.predict_proba(rows)
    assert all(sum(p) == pytest.approx(1.0) for p in probabilities)
    labels = [predictor.labels[max(range(3), key=p.__getitem__)] for p in probabilities]
    assert predictor.predict(rows) == labels
    assert predictor.predict(rows) == result.preprocessing.decode(
        result.model(result.preprocessing.features(rows))
    )
    assert predictor.preprocessing.tokenizer.vocab == result.preprocessing.tokenizer.vocab


def test_a_regression_model_predicts_values(tmp_path):
    regression = recipe(loss="mse", data={"preprocessing": {"scale": "standard"}}, training={"epochs": 2})
    result, _ = trained(regression, diabetes_table(), tmp_path)
    predictor = load_model(tmp_path)
    rows = diabetes_table().slice(0, 5).drop_columns(["label"])
    values = predictor.predict(rows)
    assert len(values) == 5 and all(isinstance(v, float) for v in values)
    with pytest.raises(ValueError, match="a regression model gives values, not class probabilities"):
        predictor.predict_proba(rows)


def test_predicting_needs_the_input_columns(tmp_path):
    trained(recipe(training={"epochs": 1}), iris_table(), tmp_path)
    predictor = load_model(tmp_path)
    assert predictor.predict([]) == []
    with pytest.raises(
        BadRequest, match="missing input column\\(s\\) petal_width; the model reads sepal_length,"
    ):
        predictor.predict(pa.table({"sepal_length": [1.0], "sepal_width": [1.0], "petal_length": [1.0]}))


def test_a_directory_without_a_plaza_config_is_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match="does not describe a ModelPlaza-trained model"):
        load_model(tmp_path)
