"""Optimisers, schedules, losses and regularisers are the ones configured; the loop reports,
stops early, cancels and repeats itself exactly."""

import pyarrow.compute as pc
import pytest
import torch
from torch import nn

from modelplaza.train.data import prepare_data
from modelplaza.train.recipe import RecipeError
from modelplaza.train.trainer import Trainer, TrainingCancelled, train
from tests.unit.train_helpers import diabetes_table, iris_table, prepared, recipe, sum_sign_table, topic_table

IRIS = iris_table()


def iris(**changes):
    return recipe(**({"data": {"preprocessing": {"scale": "standard"}}} | changes))


def trainer_for(the_recipe, table=IRIS) -> Trainer:
    return Trainer(the_recipe, prepared(table, the_recipe))


@pytest.mark.parametrize(
    ("optimizer", "torch_class", "expected"),
    [
        ({"name": "sgd", "lr": 0.1}, torch.optim.SGD, {"momentum": 0, "nesterov": False}),
        ({"name": "sgd", "lr": 0.05, "momentum": 0.9}, torch.optim.SGD, {"momentum": 0.9, "nesterov": False}),
        ({"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, torch.optim.SGD, {"nesterov": True}),
        ({"name": "adagrad", "lr": 0.1, "eps": 1e-6}, torch.optim.Adagrad, {"eps": 1e-6}),
        ({"name": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5}, torch.optim.RMSprop, {"alpha": 0.9}),
        ({"name": "adam", "lr": 0.01, "betas": [0.8, 0.99]}, torch.optim.Adam, {"betas": (0.8, 0.99)}),
        ({"name": "adamw", "lr": 0.01, "eps": 1e-7}, torch.optim.AdamW, {"eps": 1e-7}),
    ],
)
def test_each_optimiser_is_the_configured_torch_one_and_learns(optimizer, torch_class, expected):
    trainer = trainer_for(iris(optimizer=optimizer, regularization={"weight_decay": 0.001}))
    assert type(trainer.optimizer) is torch_class
    group = trainer.optimizer.param_groups[0]
    assert group["lr"] == optimizer["lr"] and group["weight_decay"] == 0.001
    assert {key: group[key] for key in expected} == expected
    result = trainer.fit()
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.test["accuracy"] >= 0.8, result.test


def step_rates(schedule: dict, epochs: int = 4) -> list[float]:
    the_recipe = iris(optimizer={"name": "sgd", "lr": 0.1, "schedule": schedule}, training={"epochs": epochs})
    records = []
    trainer_for(the_recipe).fit(on_metrics=records.append)
    return [record["lr"] for record in records if record["kind"] == "step"]


def test_learning_rate_schedules_follow_their_shape():
    steps_per_epoch = 7  # 105 training rows in batches of 16
    assert step_rates({}) == [0.1] * 28
    stepped = step_rates({"name": "step", "step_size": 1, "gamma": 0.5})
    assert stepped[:7] == [0.1] * 7 and stepped[7:14] == pytest.approx([0.05] * 7)
    assert stepped[-1] == pytest.approx(0.1 * 0.5**3)
    cosine = step_rates({"name": "cosine", "min_lr": 0.01})
    assert cosine[0] == 0.1 and all(a > b for a, b in zip(cosine, cosine[1:], strict=False))
    assert 0.01 < cosine[-1] < 0.0105  # the last step is one short of the end of the curve
    warm = step_rates({"name": "constant", "warmup_steps": 4})
    assert warm == pytest.approx([0.02, 0.04, 0.06, 0.08] + [0.1] * 24)
    linear = step_rates({"name": "linear", "warmup_steps": 2, "min_lr": 0.0}, epochs=2)
    assert linear[:3] == pytest.approx([0.1 / 3, 0.2 / 3, 0.1])
    assert linear[2:] == sorted(linear[2:], reverse=True) and linear[-1] < 0.1 / steps_per_epoch


@pytest.mark.parametrize(
    ("loss", "criterion", "attributes"),
    [
        ({"name": "cross_entropy", "label_smoothing": 0.1}, nn.CrossEntropyLoss, {"label_smoothing": 0.1}),
        ("nll", nn.NLLLoss, {}),
        ("multi_margin", nn.MultiMarginLoss, {"margin": 1.0}),
    ],
)
def test_classification_losses_are_the_configured_ones(loss, criterion, attributes):
    trainer = trainer_for(iris(loss=loss))
    assert type(trainer.objective.criterion) is criterion
    assert {key: getattr(trainer.objective.criterion, key) for key in attributes} == attributes
    assert trainer.fit().test["accuracy"] >= 0.8


def test_nll_is_applied_to_log_probabilities():
    trainer = trainer_for(iris(loss="nll"))
    outputs, targets = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    expected = nn.functional.nll_loss(torch.log_softmax(outputs, dim=-1), targets)
    assert trainer.objective(outputs, targets) == pytest.approx(expected.item())


def test_bce_trains_one_logit_for_two_classes():
    setosa = IRIS.set_column(4, "label", pc.equal(IRIS.column("label"), "setosa"))
    bce = iris(loss="bce")
    trainer = trainer_for(bce, setosa)
    assert type(trainer.objective.criterion) is nn.BCEWithLogitsLoss
    assert trainer.config["out_features"] == 1 and trainer.data.preprocessing.labels == [False, True]
    assert trainer.fit().test["accuracy"] >= 0.95
    with pytest.raises(
        RecipeError, match="loss.name: bce is for two classes but 'label' has 3; use cross_entropy"
    ):
        prepared(IRIS, bce)


@pytest.mark.parametrize(
    ("loss", "criterion", "attributes"),
    [
        ("mse", nn.MSELoss, {}),
        ("l1", nn.L1Loss, {}),
        ({"name": "huber", "delta": 2.0}, nn.HuberLoss, {"delta": 2.0}),
        ({"name": "smooth_l1", "beta": 0.5}, nn.SmoothL1Loss, {"beta": 0.5}),
    ],
)
def test_regression_losses_are_the_configured_ones(loss, criterion, attributes):
    diabetes = diabetes_table()
    in_hundreds = diabetes.set_column(10, "label", pc.divide(diabetes.column("label"), 100.0))
    regression = iris(
        loss=loss,
        training={"epochs": 15, "early_stopping": {"metric": "mae", "patience": 5}},
        optimizer={"name": "adam", "lr": 0.01},
    )
    trainer = trainer_for(regression, in_hundreds)
    assert type(trainer.objective.criterion) is criterion
    assert {key: getattr(trainer.objective.criterion, key) for key in attributes} == attributes
    assert trainer.data.preprocessing.head == "value" and trainer.config["out_features"] == 1
    result = trainer.fit()
    assert set(result.test) == {"loss", "mse", "mae", "r2"} and result.test["r2"] > 0.2, result.test


def test_the_l1_penalty_adds_exactly_l1_times_the_absolute_weights():
    plain, penalised = trainer_for(iris()), trainer_for(iris(regularization={"l1": 0.01}))
    absolute = sum(p.abs().sum() for p in penalised.model.parameters()).item()
    assert penalised.objective.penalty(penalised.model).item() == pytest.approx(0.01 * absolute)
    features, targets = penalised.data.train.features[:16], penalised.data.train.targets[:16]
    difference = penalised.train_step(features, targets) - plain.train_step(features, targets)
    assert difference == pytest.approx(0.01 * absolute, rel=1e-4)


def parameters_of(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_weight_decay_shrinks_the_weights():
    norms = []
    for decay in (0.0, 0.1):
        trainer = trainer_for(
            iris(optimizer={"name": "sgd", "lr": 0.1}, regularization={"weight_decay": decay})
        )
        trainer.fit()
        norms.append(parameters_of(trainer.model).norm().item())
    assert norms[1] < 0.8 * norms[0]


def test_gradient_clipping_caps_the_step():
    moves = []
    for clip in (None, 0.001):
        trainer = trainer_for(iris(optimizer={"name": "sgd", "lr": 1.0}, regularization={"grad_clip": clip}))
        before = parameters_of(trainer.model)
        trainer.train_step(trainer.data.train.features[:32], trainer.data.train.targets[:32])
        moves.append((parameters_of(trainer.model) - before).norm().item())
    assert moves[1] == pytest.approx(0.001, rel=1e-3) and moves[0] > 0.01


def test_metrics_are_reported_step_by_step_and_epoch_by_epoch():
    records = []
    result = train(iris(training={"epochs": 3}), prepared(IRIS, iris()), on_metrics=records.append)
    steps = [r for r in records if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(1, 22)) and {r["epoch"] for r in steps} == {1, 2, 3}
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert epochs == result.history and [r["step"] for r in epochs] == [7, 14, 21]
    assert {"train_loss", "lr", "val_loss", "val_accuracy", "val_f1", "val_precision", "val_recall"} <= set(
        epochs[0]
    )
    assert records[-1]["kind"] == "test" and records[-1]["test_accuracy"] == result.test["accuracy"]


def test_early_stopping_waits_patience_epochs_and_keeps_the_best_weights():
    stopping = {"metric": "loss", "patience": 2, "min_delta": 100.0}  # nothing improves by 100
    the_recipe = iris(training={"epochs": 10, "early_stopping": stopping})
    result = train(the_recipe, prepared(IRIS, the_recipe))
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 1
    assert result.validation["loss"] == result.history[0]["val_loss"]

    by_accuracy = iris(training={"epochs": 6, "early_stopping": {"metric": "accuracy", "patience": 6}})
    result = train(by_accuracy, prepared(IRIS, by_accuracy))
    accuracies = [record["val_accuracy"] for record in result.history]
    assert not result.stopped_early and result.best_epoch == accuracies.index(max(accuracies)) + 1


def test_the_latest_metrics_of_a_finished_run_say_the_epoch_it_reached_not_its_best():
    stopping = {"metric": "loss", "patience": 2, "min_delta": 100.0}  # epoch 1 stays the best
    the_recipe = iris(training={"epochs": 10, "early_stopping": stopping})
    latest: dict = {}
    result = train(the_recipe, prepared(IRIS, the_recipe), on_metrics=latest.update)  # as a job's progress
    assert (result.best_epoch, len(result.history)) == (1, 3)
    assert latest["kind"] == "test" and latest["epoch"] == 3 and latest["best_epoch"] == 1


def test_without_a_validation_split_the_last_epoch_is_kept():
    no_validation = iris(data={"splits": {"ratios": {"train": 0.8, "validation": 0.0, "test": 0.2}}})
    result = train(no_validation, prepared(IRIS, no_validation))
    assert result.best_epoch == 5 and result.validation == {} and "val_loss" not in result.history[0]


def test_cancelling_stops_before_the_next_step():
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) >= 3

    records = []
    with pytest.raises(TrainingCancelled, match="cancelled at epoch 1, step 2"):
        train(iris(), prepared(IRIS, iris()), on_metrics=records.append, should_stop=should_stop)
    assert [r["step"] for r in records] == [1, 2]


@pytest.mark.parametrize(
    ("table", "changes"),
    [
        (IRIS, {"regularization": {"dropout": 0.2}}),
        (sum_sign_table(200), {"model": {"type": "rnn", "cell": "gru"}, "data": {"inputs": ["x*"]}}),
        (
            topic_table(200),
            {
                "model": {"type": "transformer", "d_model": 16, "num_heads": 2, "num_layers": 1},
                "data": {"inputs": ["text"], "preprocessing": {"text": {"max_length": 12}}},
                "regularization": {"dropout": 0.1},
            },
        ),
    ],
)
def test_the_same_seed_gives_the_same_run(table, changes):
    runs = []
    for seed in (3, 3, 4):
        the_recipe = recipe(**changes, training={"epochs": 2, "seed": seed})
        runs.append(train(the_recipe, prepare_data(the_recipe, {"train": table})))
    first, again, other = runs
    assert first.history == again.history and first.test == again.test
    weights = zip(first.model.state_dict().values(), again.model.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in weights)
    assert first.history != other.history
