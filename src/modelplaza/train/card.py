"""What a trained model's commit holds besides its weights and config.json: the recipe as
submitted, metrics.json, a picture of the training curves, and a model card (README.md) saying
exactly how the model was made, with `model-index` metadata in the standard card format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from modelplaza.train.recipe import Recipe
from modelplaza.train.trainer import TrainResult

RECIPE = "recipe.yaml"
METRICS = "metrics.json"
CURVES = "training_curves.png"
CARD = "README.md"
# Input columns named in full on the card; longer lists are shortened.
COLUMNS_SHOWN = 6


@dataclass(frozen=True)
class DatasetSource:
    repo: str
    revision: str  # as the recipe names it
    commit: str  # what that revision was when the job read it
    license: str | None


@dataclass(frozen=True)
class Provenance:
    """Where a model came from: its dataset, the hub model it was fine-tuned from (if any, as
    repo -> exact commit), the plaza it was trained on and the job that trained it."""

    dataset: DatasetSource
    base_models: dict[str, str]
    endpoint: str
    job_id: int


def write_files(
    folder: Path, recipe: Recipe, recipe_text: str, result: TrainResult, provenance: Provenance
) -> None:
    (folder / RECIPE).write_text(recipe_text if recipe_text.endswith("\n") else recipe_text + "\n")
    document = metrics_document(recipe, result, provenance.dataset)
    (folder / METRICS).write_text(json.dumps(document, indent=2) + "\n")
    plot_curves(result.history, folder / CURVES)
    model_card(recipe, result, provenance).save(folder / CARD)


def metrics_document(recipe: Recipe, result: TrainResult, dataset: DatasetSource) -> dict[str, Any]:
    return {
        "dataset": {"repo": dataset.repo, "revision": dataset.revision, "commit": dataset.commit},
        "selection_metric": recipe.selection_metric,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "validation": result.validation,
        "test": result.test,
        "history": result.history,
    }


def plot_curves(history: list[dict[str, Any]], path: Path) -> None:
    """Loss (training and validation) and the validation metrics, per epoch, side by side."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, metric_axes = figure.subplots(1, 2)
    _plot(loss_axes, history, {"train_loss": "training", "val_loss": "validation"}, "Loss")
    metrics = [key for key in (history[0] if history else {}) if key.startswith("val_") and key != "val_loss"]
    _plot(metric_axes, history, {key: key.removeprefix("val_") for key in metrics}, "Validation metrics")
    figure.savefig(path, dpi=100)


def _plot(axes: Any, history: list[dict[str, Any]], series: dict[str, str], title: str) -> None:
    axes.set_title(title)
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not series:
        axes.text(0.5, 0.5, "no validation split", ha="center", va="center", transform=axes.transAxes)
        return
    epochs = [record["epoch"] for record in history]
    for key, label in series.items():
        values = [record.get(key) for record in history]
        if any(value is not None for value in values):
            axes.plot(epochs, [float("nan") if v is None else v for v in values], marker="o", label=label)
    axes.grid(alpha=0.3)
    axes.legend()


def model_card(recipe: Recipe, result: TrainResult, provenance: Provenance) -> ModelCard:
    dataset = provenance.dataset
    name = recipe.output.repo.split("/", 1)[1]
    license = recipe.output.license or dataset.license
    data = ModelCardData(
        model_name=name,
        license=license,
        library_name="modelplaza",
        datasets=[dataset.repo],
        base_model=list(provenance.base_models) or None,
        tags=["modelplaza", recipe.model.type, task_type(recipe)],
        eval_results=eval_results(recipe, result, dataset) or None,
    )
    sections = [
        _summary(recipe, provenance, name),
        _results(recipe, result),
        _usage(recipe, result, provenance.endpoint),
        _hyperparameters(recipe),
        _licence(recipe, dataset, license),
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")


def task_type(recipe: Recipe) -> str:
    """The task in the Hub's vocabulary, as model-index names it."""
    if recipe.data.preprocessing.text is not None:
        return "text-classification"
    if recipe.model.type == "cnn":
        return "image-classification"
    return f"tabular-{recipe.task}"


def eval_results(recipe: Recipe, result: TrainResult, dataset: DatasetSource) -> list[EvalResult]:
    """The test metrics, then the validation ones (the loss, an internal quantity, left out)."""
    splits = recipe.data.splits
    named = splits.ratios is None
    scored = [
        (splits.test if named else "test", result.test),
        (splits.validation if named else "validation", result.validation),
    ]
    return [
        EvalResult(
            task_type=task_type(recipe),
            dataset_type=dataset.repo,
            dataset_name=dataset.repo,
            dataset_split=split,
            dataset_revision=dataset.commit,
            metric_type=metric,
            metric_value=round(value, 6),
        )
        for split, metrics in scored
        for metric, value in metrics.items()
        if metric != "loss"
    ]


def _summary(recipe: Recipe, provenance: Provenance, name: str) -> str:
    dataset, endpoint = provenance.dataset, provenance.endpoint
    splits = recipe.data.splits
    cut = (
        f" Its `{splits.train}` split was cut into training, validation and test parts by the ratios"
        f" in the recipe (seed {splits.seed})."
        if splits.ratios
        else ""
    )
    base = "".join(
        f" Fine-tuned from [{repo}]({endpoint}/{repo}) at commit `{commit}`."
        for repo, commit in provenance.base_models.items()
    )
    return (
        f"# {name}\n\n"
        f"A `{recipe.model.type}` {recipe.task} model trained on ModelPlaza by job {provenance.job_id}, "
        f"on the dataset [{dataset.repo}]({endpoint}/datasets/{dataset.repo}) at commit "
        f"`{dataset.commit}` (revision `{dataset.revision}`).{cut}{base}"
    )


def _results(recipe: Recipe, result: TrainResult) -> str:
    rows = [(f"validation (epoch {result.best_epoch})", result.validation), ("test", result.test)]
    rows = [(label, metrics) for label, metrics in rows if metrics]
    ran = len(result.history)
    stopping = f"stopped early after {ran} epochs" if result.stopped_early else f"ran all {ran} epochs"
    lines = ["## Results", ""]
    if rows:
        names = list(rows[0][1])
        lines += [
            "| split | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
            *(
                f"| {label} | " + " | ".join(f"{m.get(n, float('nan')):.4f}" for n in names) + " |"
                for label, m in rows
            ),
            "",
        ]
    lines += [
        f"The best epoch is the one with the best validation {recipe.selection_metric}; training {stopping}."
        f" Every epoch's numbers are in [{METRICS}]({METRICS}).",
        "",
        f"![Training curves: loss and validation metrics per epoch]({CURVES})",
    ]
    return "\n".join(lines)


def _usage(recipe: Recipe, result: TrainResult, endpoint: str) -> str:
    columns = result.preprocessing.columns
    shown = ", ".join(columns if len(columns) <= COLUMNS_SHOWN else [*columns[:3], "…", columns[-1]])
    output = recipe.output
    return (
        "## Use it\n\n"
        "```python\n"
        "import modelplaza\n\n"
        f'model = modelplaza.load_model("{output.repo}", revision="{output.branch}", endpoint="{endpoint}")\n'
        "model.predict(rows)  # rows: a pyarrow table, a pandas DataFrame or a list of dicts\n"
        "```\n\n"
        f"Each row needs the input column(s) {shown}. Pass a commit id as `revision` to load exactly "
        "this version later."
    )


def _hyperparameters(recipe: Recipe) -> str:
    settings = _flatten(recipe.model_dump(mode="json", exclude={"output"}))
    rows = "\n".join(f"| `{key}` | `{json.dumps(value)}` |" for key, value in settings.items())
    return (
        "## How it was trained\n\n"
        "Every setting, defaults included; the recipe as submitted is "
        f"[{RECIPE}]({RECIPE}).\n\n| setting | value |\n|---|---|\n{rows}"
    )


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _licence(recipe: Recipe, dataset: DatasetSource, license: str | None) -> str:
    if recipe.output.license:
        source = "set by the recipe"
    elif license:
        source = f"the licence of the dataset {dataset.repo}"
    else:
        return f"## Licence\n\nNone stated: neither the dataset {dataset.repo} nor the recipe names one."
    return f"## Licence\n\n`{license}` ({source})."
