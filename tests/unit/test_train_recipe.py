"""Recipes: what a valid one looks like, and the precise message each kind of mistake gets."""

import json

import pyarrow as pa
import pytest
import yaml

from modelplaza.auth.principal import JobOutput, JobRepos, RepoRef
from modelplaza.errors import BadRequest
from modelplaza.train.checks import check_against
from modelplaza.train.kind import named_repos
from modelplaza.train.recipe import RecipeError, load_recipe
from tests.unit.train_helpers import BASE, digits_table, merged, recipe, topic_table

DIGITS_CNN = """
data:
  dataset: alice/digits
  revision: main
  splits: {train: train, validation: validation, test: test}
  inputs: "pixel_*"
  label: label
  preprocessing: {scale: standard, reshape: [1, 8, 8]}
model: {type: cnn, channels: [16, 32], kernel_size: 3, hidden: [64]}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, schedule: {name: cosine, warmup_steps: 10}}
loss: {name: cross_entropy, label_smoothing: 0.1}
regularization: {l1: 0.0001, weight_decay: 0.0005, dropout: 0.2, grad_clip: 1.0}
training: {epochs: 10, batch_size: 32, seed: 7, early_stopping: {metric: f1, patience: 3, min_delta: 0.001}}
output: {repo: alice/digits-cnn, branch: main, private: true}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        load_recipe(text)
    return caught.value.problems


def changed(**changes) -> str:
    return json.dumps(merged(BASE, changes))


def test_a_full_recipe_reads_every_section():
    r = load_recipe(DIGITS_CNN)
    assert r.data.inputs == ["pixel_*"] and r.data.preprocessing.reshape == [1, 8, 8]
    assert r.model.type == "cnn" and r.model.channels == [16, 32]
    assert (r.optimizer.name, r.optimizer.momentum, r.optimizer.nesterov) == ("sgd", 0.9, True)
    assert r.optimizer.schedule.name == "cosine" and r.optimizer.schedule.warmup_steps == 10
    assert r.loss.label_smoothing == 0.1 and r.task == "classification"
    assert r.regularization.grad_clip == 1.0 and r.regularization.dropout == 0.2
    assert r.training.early_stopping.metric == "f1" and r.selection_metric == "f1"
    assert r.output.private is True


def test_json_is_read_like_yaml_and_short_forms_expand():
    as_json = json.dumps(yaml.safe_load(DIGITS_CNN))
    assert load_recipe(as_json) == load_recipe(DIGITS_CNN)
    short = load_recipe(changed(model="rnn", optimizer="adamw", loss="huber", data={"inputs": "x"}))
    assert (short.model.type, short.model.cell, short.optimizer.lr) == ("rnn", "lstm", 1e-3)
    assert short.loss.name == "huber" and short.task == "regression" and short.data.inputs == ["x"]


def test_recipe_errors_are_bad_requests_with_one_line_per_problem():
    with pytest.raises(BadRequest) as caught:
        load_recipe(changed(optimizer={"name": "adamx", "lr": -0.1}))
    assert str(caught.value) == (
        "optimizer.name: unknown optimiser 'adamx'; choose one of sgd, adagrad, rmsprop, adam, adamw\n"
        "optimizer.lr: must be greater than 0, got -0.1"
    )
    assert caught.value.status == 400 and len(caught.value.problems) == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"optimizer": {"lr": -0.1}}, "optimizer.lr: must be greater than 0, got -0.1"),
        ({"optimizer": {"lr": "fast"}}, "optimizer.lr: must be a valid number, got 'fast'"),
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "optimizer.momentum: not used by adam"),
        (
            {"optimizer": {"name": "sgd", "nesterov": True}},
            "optimizer.nesterov: needs momentum greater than 0",
        ),
        (
            {"optimizer": {"learning_rate": 0.1}},
            "optimizer.learning_rate: unknown field; expected one of name, lr,",
        ),
        (
            {"optimizer": {"schedule": {"name": "exponential"}}},
            "optimizer.schedule.name: unknown schedule 'exponential'; choose one of constant, step, cosine, linear",
        ),
        (
            {"optimizer": {"schedule": {"name": "step", "min_lr": 0.1}}},
            "optimizer.schedule.min_lr: not used by the step",
        ),
        (
            {"optimizer": {"schedule": {"name": "cosine", "min_lr": 1}}},
            "optimizer.schedule.min_lr: must be below lr",
        ),
        (
            {"model": {"type": "lstm"}},
            "model.type: unknown architecture 'lstm'; choose one of mlp, cnn, rnn, transformer, hub",
        ),
        ({"model": {"type": None}}, "model.type: required"),
        ({"model": {"hidden": [32, 0]}}, "model.hidden[1]: must be greater than or equal to 1, got 0"),
        (
            {"model": {"type": "cnn"}},
            "model.type: cnn needs images; set data.preprocessing.reshape to [channels, height, width]",
        ),
        (
            {"model": {"type": "rnn", "cell": "elman"}},
            "model.cell: unknown cell 'elman'; choose one of lstm, gru",
        ),
        (
            {"model": {"type": "transformer", "d_model": 30, "num_heads": 4}},
            "model.num_heads: d_model 30 is not divisible",
        ),
        (
            {"model": {"type": "hub", "repo": "alice/bert"}},
            "data.preprocessing.text: a hub model classifies text",
        ),
        (
            {"loss": "hinge"},
            "loss.name: unknown loss 'hinge'; choose one of cross_entropy, nll, bce, multi_margin, mse,",
        ),
        ({"loss": {"name": "mse", "label_smoothing": 0.1}}, "loss.label_smoothing: not used by mse"),
        ({"regularization": {"dropout": 1.5}}, "regularization.dropout: must be less than 1, got 1.5"),
        ({"regularization": {"l1": -1}}, "regularization.l1: must be greater than or equal to 0, got -1"),
        ({"training": {"epochs": 0}}, "training.epochs: must be greater than or equal to 1, got 0"),
        ({"training": {"epochs": None}}, "training.epochs: required"),
        (
            {"training": {"early_stopping": {"metric": "r2"}}},
            "training.early_stopping.metric: unknown metric 'r2' for classification (loss cross_entropy); choose one of",
        ),
        (
            {"training": {"early_stopping": {}}, "data": {"splits": {"validation": None}}},
            "training.early_stopping: needs a validation split",
        ),
        ({"data": {"inputs": []}}, "data.inputs: must have at least 1 item"),
        (
            {"data": {"dataset": "digits"}},
            "data.dataset: invalid repo id 'digits': expected 'namespace/name'",
        ),
        (
            {"data": {"preprocessing": {"scale": "log"}}},
            "data.preprocessing.scale: unknown scaling 'log'; choose one of",
        ),
        (
            {"data": {"preprocessing": {"scale": "standard", "text": {}}}},
            "data.preprocessing.scale: applies to numeric columns, not to tokenised text",
        ),
        (
            {"data": {"splits": {"ratios": {"train": 0.5, "test": 0.2}}}},
            "data.splits.ratios.train: train + validation",
        ),
        (
            {"data": {"splits": {"ratios": {"train": 1.0}, "test": "test"}}},
            "data.splits.test: leave out split names when cutting by ratios",
        ),
        ({"output": {"branch": "a..b"}}, "output.branch: invalid branch or tag name 'a..b'"),
        ({"output": None}, "output: required"),
        ({"model": 5}, "model: must be a mapping of fields, got 5"),
        (
            {"extra": 1},
            "extra: unknown field; expected one of data, model, optimizer, loss, regularization, training",
        ),
    ],
)
def test_bad_recipes_get_precise_messages(changes, expected):
    problems = problems_of(changed(**changes))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_reported_at_once():
    problems = problems_of(changed(optimizer={"name": "adamx"}, training={"epochs": -1}, loss="cross"))
    assert [p.split(":")[0] for p in problems] == ["optimizer.name", "loss.name", "training.epochs"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data: [unclosed", "recipe: not valid YAML or JSON at line 1"),
        ("- a list", "recipe: expected a mapping with data, model, optimizer, loss, training, output"),
        ("", "recipe: expected a mapping"),
    ],
)
def test_unreadable_recipes(text, expected):
    assert problems_of(text)[0].startswith(expected)


def data_problems(the_recipe, table: pa.Table, n_classes=None, splits=None) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        check_against(the_recipe, table.schema, n_classes, splits)
    return caught.value.problems


def test_check_against_expands_globs_in_dataset_order_and_skips_the_label():
    cnn = load_recipe(DIGITS_CNN)
    columns = check_against(cnn, digits_table().schema, 10, ["train", "validation", "test"])
    assert columns == [f"pixel_{i}" for i in range(64)]
    assert check_against(recipe(data={"inputs": ["*"]}), digits_table().schema, 10)[-1] == "pixel_63"


def test_check_against_names_missing_columns_and_splits():
    table = digits_table()
    problems = data_problems(recipe(data={"inputs": ["pixel_1", "pixel_99"], "label": "digit"}), table, 10)
    assert problems[0].startswith(
        "data.inputs: no column 'pixel_99' in the dataset; columns are pixel_0, pixel_1,"
    )
    assert problems[0].endswith("(65 in all)")
    assert problems[1].startswith("data.label: no column 'digit' in the dataset")
    cnn = load_recipe(DIGITS_CNN.replace("validation: validation", "validation: valid"))
    problems = data_problems(cnn, table, 10, ["train", "test"])
    assert problems == ["data.splits.validation: the dataset has no split 'valid'; it has test, train"]


def test_check_against_refuses_shapes_and_types_that_do_not_fit():
    digits = digits_table()
    wrong_shape = load_recipe(DIGITS_CNN.replace("[1, 8, 8]", "[1, 7, 7]"))
    assert data_problems(wrong_shape, digits, 10) == [
        "data.preprocessing.reshape: [1, 7, 7] holds 49 values but the inputs give 64 per row"
    ]
    bce = recipe(loss="bce")
    assert data_problems(bce, digits, 10) == [
        "loss.name: bce is for two classes but 'label' has 10; use cross_entropy"
    ]
    assert data_problems(recipe(), digits, 1)[0].startswith("data.label: 'label' has 1 class")
    assert data_problems(recipe(data={"inputs": ["label"]}), digits, 10) == [
        "data.inputs: includes the label column 'label'"
    ]
    texts = topic_table(10)
    assert data_problems(recipe(), texts, 3) == [
        "data.inputs: column 'text' holds string, not numbers; tokenise text with data.preprocessing.text"
    ]
    assert (
        data_problems(recipe(loss="mse"), texts)[0]
        == "data.label: 'label' holds string; loss mse needs a numeric label"
    )
    text_model = recipe(
        model={"type": "transformer"}, data={"inputs": ["pixel_*"], "preprocessing": {"text": {}}}
    )
    assert data_problems(text_model, digits, 10) == [
        "data.inputs: text preprocessing takes one text column, got 64"
    ]


def test_a_recipe_names_the_repos_its_job_reads_and_the_one_it_creates_and_writes():
    """What a training job's token reaches (``auth.permissions`` holds it to exactly these)."""
    words = merged(BASE, {"output": {"repo": "alice/private-model", "private": True}})
    assert named_repos(words) == JobRepos(
        frozenset({RepoRef("dataset", "alice/data")}),
        JobOutput(RepoRef("model", "alice/private-model"), create=True, private=True),
    )
    text = {"preprocessing": {"text": {"tokenizer": "lab/tokenizer"}}}
    tokenized = merged(BASE, {"data": text, "model": {"type": "rnn"}})
    assert named_repos(tokenized).reads == {
        RepoRef("dataset", "alice/data"),
        RepoRef("model", "lab/tokenizer"),
    }
    fine_tuned = merged(
        BASE, {"data": {"preprocessing": {"text": {}}}, "model": {"type": "hub", "repo": "lab/bert"}}
    )
    assert named_repos(fine_tuned).reads == {RepoRef("dataset", "alice/data"), RepoRef("model", "lab/bert")}
    # A spec that is not a recipe (a job queued by another version) names nothing.
    assert named_repos({"data": "?"}) == JobRepos()
