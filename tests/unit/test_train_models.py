"""Each built-in architecture learns a task it suits, and a hub model is fine-tuned."""

import pytest
import torch
from pydantic import TypeAdapter
from torch import nn
from transformers import AutoModelForSequenceClassification

from modelplaza.train.export import load_model, save_model
from modelplaza.train.models import (
    CNN,
    MLP,
    RNN,
    InputSpec,
    TransformerEncoderClassifier,
    build_model,
    model_config,
)
from modelplaza.train.recipe import ModelSpec
from modelplaza.train.trainer import Trainer, train
from tests.unit.train_helpers import digits_table, prepared, recipe, sum_sign_table, tiny_bert, topic_table

TEXT = {"inputs": ["text"], "preprocessing": {"text": {"max_length": 16}}}


def test_cnn_reaches_95_percent_on_digits():
    cnn = recipe(
        data={"inputs": ["pixel_*"], "preprocessing": {"scale": "standard", "reshape": [1, 8, 8]}},
        model={"type": "cnn", "channels": [32, 64], "hidden": [64]},
        optimizer={"name": "adam", "lr": 0.003, "schedule": "cosine"},
        training={"epochs": 12, "batch_size": 32},
    )
    result = train(cnn, prepared(digits_table(), cnn))
    assert isinstance(result.model, CNN)
    assert result.config["in_shape"] == [1, 8, 8]
    assert result.test["accuracy"] >= 0.95, result.test


def test_mlp_reaches_90_percent_on_digits():
    mlp = recipe(
        data={"preprocessing": {"scale": "minmax"}},
        model={"type": "mlp", "hidden": [64]},
        optimizer={"name": "adam", "lr": 0.003},
        training={"epochs": 10, "batch_size": 32},
    )
    result = train(mlp, prepared(digits_table(), mlp))
    assert isinstance(result.model, MLP) and result.config["in_features"] == 64
    assert result.test["accuracy"] >= 0.90, result.test


def test_lstm_learns_the_sign_of_a_sum():
    lstm = recipe(
        data={"inputs": ["x*"], "preprocessing": {"reshape": [8, 1]}},
        model={"type": "rnn", "cell": "lstm", "hidden_size": 32},
        optimizer={"name": "adam", "lr": 0.01},
        training={"epochs": 10, "batch_size": 32},
    )
    result = train(lstm, prepared(sum_sign_table(), lstm))
    assert isinstance(result.model.rnn, nn.LSTM) and result.config["input_size"] == 1
    assert result.test["accuracy"] >= 0.9, result.test


def test_gru_learns_topics_from_text():
    gru = recipe(
        data=TEXT,
        model={"type": "rnn", "cell": "gru", "hidden_size": 32, "bidirectional": True},
        optimizer={"name": "adam", "lr": 0.01},
        training={"epochs": 6, "batch_size": 32},
    )
    data = prepared(topic_table(), gru)
    result = train(gru, data)
    assert isinstance(result.model.rnn, nn.GRU) and result.model.rnn.bidirectional
    assert result.config["vocab_size"] == data.preprocessing.tokenizer.vocab_size
    assert result.test["accuracy"] >= 0.9, result.test


def test_transformer_encoder_learns_topics_from_text():
    transformer = recipe(
        data=TEXT,
        model={"type": "transformer", "d_model": 32, "num_heads": 4, "num_layers": 1, "dim_feedforward": 64},
        optimizer={"name": "adamw", "lr": 0.003},
        training={"epochs": 8, "batch_size": 32},
    )
    result = train(transformer, prepared(topic_table(), transformer))
    model = result.model
    assert isinstance(model, TransformerEncoderClassifier)
    assert model.encoder.layers[0].self_attn.num_heads == 4 and model.positions.shape == (16, 32)
    assert result.test["accuracy"] >= 0.9, result.test
    assert sorted(result.preprocessing.labels) == ["food", "sport", "tech"]


def test_a_hub_model_is_fine_tuned_and_saved_in_the_transformers_layout(tmp_path):
    bert_dir = tiny_bert(tmp_path / "bert")
    fetched = []

    def fetch(repo_id, revision):
        fetched.append((repo_id, revision))
        return bert_dir

    hub = recipe(
        data={"inputs": ["text"], "preprocessing": {"text": {"max_length": 16}}},
        model={"type": "hub", "repo": "alice/tiny-bert", "revision": "v1"},
        optimizer={"name": "adamw", "lr": 0.003},
        training={"epochs": 6, "batch_size": 32},
    )
    table = topic_table(600)
    data = prepared(table, hub, fetch=fetch)
    result = train(hub, data, fetch=fetch)
    assert fetched == [("alice/tiny-bert", "v1"), ("alice/tiny-bert", "v1")]
    assert result.test["accuracy"] >= 0.8, result.test

    save_model(tmp_path / "out", result.model, result.config, result.preprocessing)
    predictor = load_model(tmp_path / "out")
    rows = table.slice(0, 40)
    assert predictor.predict(rows) == result.preprocessing.decode(
        result.model.eval()(data.preprocessing.features(rows))
    )
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "out")
    assert plain.config.id2label == {0: "food", 1: "sport", 2: "tech"}


@pytest.mark.parametrize(
    ("spec", "inputs"),
    [
        ({"type": "mlp", "hidden": [8, 8]}, InputSpec((4,))),
        ({"type": "cnn", "channels": [4], "hidden": [8]}, InputSpec((1, 8, 8))),
        ({"type": "rnn", "num_layers": 2}, InputSpec((6,), vocab_size=20)),
        ({"type": "transformer", "d_model": 8, "num_heads": 2}, InputSpec((5, 3))),
    ],
)
def test_dropout_and_sizes_reach_every_architecture(spec, inputs):
    config = model_config(TypeAdapter(ModelSpec).validate_python(spec), inputs, 3, dropout=0.3)
    model = build_model(config)
    rates = {module.p for module in model.modules() if isinstance(module, nn.Dropout)}
    assert rates == {0.3}
    if isinstance(model, RNN):
        assert model.rnn.num_layers == 2 and model.rnn.dropout == 0.3
    example = torch.randint(1, 20, (2, *inputs.shape)) if inputs.vocab_size else torch.randn(2, *inputs.shape)
    assert model(example).shape == (2, 3)


def test_numeric_sequences_feed_a_transformer_without_reshape():
    seq = recipe(data={"inputs": ["x*"]}, model={"type": "transformer", "d_model": 8, "num_heads": 2})
    trainer = Trainer(seq, prepared(sum_sign_table(100), seq))
    assert trainer.config["input_size"] == 1 and trainer.config["max_length"] == 8
    assert trainer.model(trainer.data.train.features[:3]).shape == (3, 2)
