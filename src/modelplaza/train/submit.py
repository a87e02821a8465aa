"""Checking a training job's recipe at submission: it is validated, then checked against the
dataset it names and the caller's rights, reading only; ``jobs.submission`` queues it after.
The API and the web form both come through here, so a recipe that cannot run is refused with
the same precise message wherever it comes from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.auth.permissions import Action, allowed
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.data import split_schema
from modelplaza.db.models import Job, Repo
from modelplaza.errors import Forbidden, RepoNotFound, RevisionNotFound
from modelplaza.hub import refs, repos
from modelplaza.hub.content import Contents
from modelplaza.jobs import queue
from modelplaza.jobs.kinds import Submission
from modelplaza.names import split_repo_id
from modelplaza.train.checks import check_against, no_data_files
from modelplaza.train.recipe import Output, Recipe, RecipeError, load_recipe


def check_training(
    session: Session, contents: Contents, principal: Principal, recipe_text: str
) -> Submission:
    """The training job ``recipe_text`` describes, ready to queue. Raises RecipeError (400, one
    line per problem) for a recipe that does not fit its dataset, RepoNotFound (404) for inputs
    the caller cannot read, and Forbidden (403) for an output repo the caller may not write."""
    recipe = load_recipe(recipe_text)
    _check_data(session, contents, principal, recipe)
    _check_hub_inputs(session, principal, recipe)
    _check_output(session, principal, recipe.output)
    title = f"train {recipe.model.type} on {recipe.data.dataset}"
    spec = recipe.model_dump(mode="json", exclude_unset=True)  # parses back to the same recipe
    return Submission(spec, recipe_text, title)


def _readable_commit(
    session: Session, principal: Principal, repo_type: str, repo_id: str, revision: str, field: str
) -> tuple[Repo, str]:
    """The repo and the commit ``revision`` names in it, with errors naming the recipe field."""
    try:
        repo = repos.get_readable(session, principal, repo_type, *split_repo_id(repo_id))
    except RepoNotFound as exc:
        raise RepoNotFound(f"{field}: {exc.message}") from None
    try:
        return repo, refs.resolve(session, repo, revision)
    except RevisionNotFound:
        raise RecipeError(
            [f"{field}: {revision!r} is not a branch, tag or commit of {repo_type} {repo_id}"]
        ) from None


def _check_data(session: Session, contents: Contents, principal: Principal, recipe: Recipe) -> None:
    data = recipe.data
    _, commit_id = _readable_commit(
        session, principal, "dataset", data.dataset, data.revision, "data.dataset"
    )
    split_names, schema = split_schema(session, contents, commit_id, data.splits.train)
    if schema is None:
        raise no_data_files(data.dataset, data.revision)
    check_against(recipe, schema, splits=split_names)


def _check_hub_inputs(session: Session, principal: Principal, recipe: Recipe) -> None:
    """A hub model to fine-tune and a hub tokenizer must be there for the job to read."""
    if recipe.model.type == "hub":
        _readable_commit(session, principal, "model", recipe.model.repo, recipe.model.revision, "model.repo")
    text = recipe.data.preprocessing.text
    if text is not None and text.tokenizer != "word":
        field = "data.preprocessing.text.tokenizer"
        _readable_commit(session, principal, "model", text.tokenizer, text.revision, field)


def _check_output(session: Session, principal: Principal, output: Output) -> None:
    """The job writes as its owner: to an existing repo it may write, or a new one in a
    namespace where it may create repos."""
    namespace, name = split_repo_id(output.repo)
    try:
        repos.get_writable(session, principal, "model", namespace, name)
    except Forbidden as exc:
        raise Forbidden(f"output.repo: {exc.message}") from None
    except RepoNotFound:
        if not allowed(principal, Action.CREATE_REPO, namespace):
            raise Forbidden(f"output.repo: you may not create repos in {namespace!r}") from None


def taken_model_names(session: Session, principal: Authenticated) -> set[str]:
    """The model names in ``principal``'s namespace a new training should not write to: its
    model repos, and the outputs there of its training jobs still queued or running."""
    names = set(repos.names_in(session, "model", principal.name))
    unfinished = select(Job.spec).where(
        Job.owner_id == principal.user_id, Job.kind == "train", Job.state.in_((queue.QUEUED, queue.RUNNING))
    )
    for spec in session.scalars(unfinished):
        namespace, _, name = str(spec.get("output", {}).get("repo", "")).partition("/")
        if namespace.lower() == principal.name.lower() and name:
            names.add(name)
    return names
