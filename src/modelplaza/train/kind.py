"""The ``train`` job kind: a recipe, checked against its dataset at submission, run by
``train.job`` in the job's process; its page shows the loss curves, the test metrics and the
trained model."""

from __future__ import annotations

from typing import Any

from modelplaza.jobs.kinds import JobKind, JobPage, ResultLink, register
from modelplaza.train.submit import check_training


def total_epochs(spec: dict[str, Any]) -> int | None:
    return spec.get("training", {}).get("epochs")


def scores_on_test(progress: dict[str, Any]) -> dict[str, float]:
    """The test split's metrics among the latest ones, by name without the ``test_``."""
    return {
        name.removeprefix("test_"): value
        for name, value in progress.items()
        if name.startswith("test_") and isinstance(value, int | float)
    }


def trained_model(result: dict[str, Any]) -> ResultLink | None:
    """The model's card at the commit the job made."""
    repo = result.get("repo")
    if not repo:
        return None
    commit = result.get("commit", "")
    href = f"/{repo}/card/{commit}" if commit else f"/{repo}"
    return ResultLink("Trained model", href, f"{repo} @ {commit[:10]}" if commit else repo)


TRAIN = register(
    JobKind(
        name="train",
        check=check_training,
        runner="modelplaza.train.job",
        page=JobPage(
            spec_label="Recipe",
            template="jobs/train.html",
            total_epochs=total_epochs,
            scores=scores_on_test,
            result_link=trained_model,
        ),
    )
)
