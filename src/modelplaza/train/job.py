"""The training job (kind ``train``): downloads the recipe's dataset through the plaza's hub API,
trains, and commits the model with its recipe, metrics, curves and card to the output repo in
one commit. It runs in a job's subprocess (jobs/runner.py) and reaches the plaza over HTTP only,
with the job's token."""

from __future__ import annotations

import glob
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

# torch imports torch._dynamo (and sympy: most of a second) as it builds its first optimiser;
# imported here, that is among the imports a runner started ahead has done before its job comes.
import torch._dynamo  # noqa: F401
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

from modelplaza.errors import RepoNotFound, RevisionNotFound
from modelplaza.formats.splits import Split, find_splits
from modelplaza.formats.tables import open_table
from modelplaza.jobs.context import JobContext, JobStopped
from modelplaza.train import card, export
from modelplaza.train.checks import check_against, no_data_files
from modelplaza.train.data import prepare_data
from modelplaza.train.recipe import Recipe, load_recipe
from modelplaza.train.trainer import Trainer, TrainingCancelled, TrainResult


@dataclass
class Dataset:
    source: card.DatasetSource
    splits: list[str]  # every split the dataset has
    tables: dict[str, pa.Table]  # the splits the recipe uses


def run(context: JobContext) -> dict[str, Any]:
    job = context.job
    recipe = load_recipe(job["spec_text"])
    api = HfApi(endpoint=context.endpoint, token=context.token)
    with tempfile.TemporaryDirectory(prefix=f"plaza-job-{job['id']}-") as work_dir:
        work = Path(work_dir)
        started = time.perf_counter()
        dataset = download_dataset(api, recipe, work / "dataset", job["owner"])
        rows = ", ".join(f"{name} {table.num_rows} rows" for name, table in dataset.tables.items())
        source = f"{dataset.source.repo} at commit {dataset.source.commit}"
        context.log(f"Dataset {source}: {rows} (read in {_since(started)})")
        context.check_stop("after downloading the dataset")
        hub = HubModels(api, work / "hub", job["owner"])
        result = _train(recipe, dataset, hub, context)
        started = time.perf_counter()
        folder = work / "model"
        export.save_model(folder, result.model, result.config, result.preprocessing)
        provenance = card.Provenance(dataset.source, hub.commits, context.endpoint, job["id"])
        card.write_files(folder, recipe, job["spec_text"], result, provenance)
        context.log(f"Saved the model, its card and curves in {_since(started)}")
        context.check_stop("before uploading the model")
        started = time.perf_counter()
        outcome = upload(api, recipe, folder, dataset.source, job["id"])
        where = f"{outcome['repo']} ({outcome['branch']})"
        context.log(f"Committed {outcome['commit']} to {where} in {_since(started)}")
        return outcome


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.2f} s"


def download_dataset(api: HfApi, recipe: Recipe, directory: Path, owner: str) -> Dataset:
    """The splits the recipe uses, read from the dataset's files at the recipe's revision."""
    data = recipe.data
    info = _repo_info(api, data.dataset, data.revision, "dataset", owner)
    sizes = {
        sibling.rfilename: (sibling.lfs.sha256 if sibling.lfs else sibling.blob_id or "", sibling.size or 0)
        for sibling in info.siblings or []
    }
    card_data = info.card_data.to_dict() if info.card_data else {}
    splits = {split.name: split for split in find_splits(sizes, card_data)}
    if not splits:
        raise no_data_files(data.dataset, data.revision)
    wanted = (
        [data.splits.train]
        if data.splits.ratios
        else [data.splits.train, data.splits.validation, data.splits.test]
    )
    used = [splits[name] for name in wanted if name in splits]
    patterns = [glob.escape(file.path) for split in used for file in split.files]
    if patterns:
        api.snapshot_download(
            data.dataset, repo_type="dataset", revision=info.sha, local_dir=directory, allow_patterns=patterns
        )
    license = card_data.get("license")
    source = card.DatasetSource(
        data.dataset, data.revision, info.sha, ", ".join(license) if isinstance(license, list) else license
    )
    return Dataset(source, list(splits), {split.name: _read_split(directory, split) for split in used})


def _read_split(directory: Path, split: Split) -> pa.Table:
    tables = []
    for file in split.files:
        with open(directory / file.path, "rb") as stream:
            table = open_table(stream, file.size, file.format)
            tables.append(pa.Table.from_batches(list(table.batches()), schema=table.schema))
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


class HubModels:
    """Model repos a recipe fine-tunes or takes a tokenizer from, each downloaded once.
    ``commits`` maps each repo to the exact commit used."""

    def __init__(self, api: HfApi, directory: Path, owner: str) -> None:
        self.api = api
        self.directory = directory
        self.owner = owner
        self.commits: dict[str, str] = {}
        self._paths: dict[tuple[str, str], Path] = {}

    def fetch(self, repo: str, revision: str) -> Path:
        if (repo, revision) not in self._paths:
            info = _repo_info(self.api, repo, revision, "model", self.owner)
            local = self.directory / repo / info.sha
            self._paths[repo, revision] = Path(
                self.api.snapshot_download(repo, revision=info.sha, local_dir=local)
            )
            self.commits[repo] = info.sha
        return self._paths[repo, revision]


def _repo_info(api: HfApi, repo: str, revision: str, repo_type: str, owner: str) -> Any:
    field = "data.dataset" if repo_type == "dataset" else "model.repo"
    try:
        return api.repo_info(repo, repo_type=repo_type, revision=revision, files_metadata=True)
    except RevisionNotFoundError:
        raise RevisionNotFound(f"{field}: the {repo_type} {repo} has no revision {revision!r}") from None
    except RepositoryNotFoundError:
        raise RepoNotFound(
            f"{field}: the {repo_type} {repo} was not found (it does not exist, or {owner} cannot read it)"
        ) from None


def _train(recipe: Recipe, dataset: Dataset, hub: HubModels, context: JobContext) -> TrainResult:
    tables = dataset.tables
    named = recipe.data.splits.train
    first = tables[named] if named in tables else next(iter(tables.values()), pa.table({}))
    check_against(recipe, first.schema, splits=dataset.splits)
    data = prepare_data(recipe, tables, fetch=hub.fetch)
    context.log(f"Training a {recipe.model.type} model on {len(data.train)} examples")
    epochs = recipe.training.epochs

    def on_metrics(record: dict[str, Any]) -> None:
        context.metrics(record)
        if record["kind"] != "step":
            numbers = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float))
            where = f"Epoch {record['epoch']}/{epochs}" if record["kind"] == "epoch" else "Test"
            context.log(f"{where}: {numbers}")

    trainer = Trainer(recipe, data, fetch=hub.fetch)
    for line in trainer.describe():
        context.log(line)
    started = time.perf_counter()
    try:
        result = trainer.fit(on_metrics, context.should_stop)
    except TrainingCancelled as cancelled:
        raise JobStopped(str(cancelled)) from None
    context.log(f"Trained in {_since(started)}")
    return result


def upload(
    api: HfApi, recipe: Recipe, folder: Path, dataset: card.DatasetSource, job_id: int
) -> dict[str, str]:
    """Create the output repo and branch if missing, then commit the folder in one commit."""
    output = recipe.output
    api.create_repo(output.repo, private=output.private, exist_ok=True)
    api.create_branch(output.repo, branch=output.branch, exist_ok=True)
    commit = api.upload_folder(
        repo_id=output.repo,
        folder_path=folder,
        revision=output.branch,
        commit_message=f"Train a {recipe.model.type} model on {dataset.repo}@{dataset.commit[:8]} (job {job_id})",
    )
    return {
        "repo": output.repo,
        "repo_type": "model",
        "branch": output.branch,
        "commit": commit.oid,
        "url": commit.commit_url,
    }
