"""The ``train`` job kind: a recipe, checked against its dataset at submission, run by
``train.job`` in the job's process; its page shows the loss curves, the test metrics and the
trained model."""

from __future__ import annotations

from typing import Any

from modelplaza.auth.principal import JobOutput, JobRepos, RepoRef
from modelplaza.jobs.kinds import JobKind, JobPage, ResultLink, register
from modelplaza.train.recipe import RecipeError, parse_recipe
from modelplaza.train.submit import check_training


def named_repos(spec: dict[str, Any]) -> JobRepos:
    """A recipe reads its dataset, the hub model it fine-tunes and the hub repo of its
    tokenizer, and writes its output model repo, which the job creates when it is missing."""
    try:
        recipe = parse_recipe(spec)
    except RecipeError:
        return JobRepos()
    reads = {RepoRef("dataset", recipe.data.dataset)}
    if recipe.model.type == "hub":
        reads.add(RepoRef("model", recipe.model.repo))
    text = recipe.data.preprocessing.text
    if text is not None and text.tokenizer != "word":
        reads.add(RepoRef("model", text.tokenizer))
    output = JobOutput(RepoRef("model", recipe.output.repo), create=True, private=recipe.output.private)
    return JobRepos(frozenset(reads), output)


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
        repos=named_repos,
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
