"""``plaza train`` and ``plaza jobs``: submit training recipes, then follow, list and cancel jobs,
on any plaza reachable over HTTP."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column

from modelplaza.errors import PlazaError
from modelplaza.jobs.client import JobsApiError, JobsClient
from modelplaza.jobs.logs import log_line
from modelplaza.jobs.queue import FINISHED, STATES, SUCCEEDED

train_app = typer.Typer(help="Train models on the plaza from recipes.", no_args_is_help=True)
jobs_app = typer.Typer(help="List, follow and cancel your jobs on the plaza.", no_args_is_help=True)

DEFAULT_URL = "http://127.0.0.1:8000"
# Exit status after Ctrl+C, as shells report a process stopped by SIGINT.
INTERRUPTED = 130
CONFLICT = 409
# Times in a row a dropped event stream is reopened before giving up.
RECONNECTS = 5

Url = Annotated[
    str,
    typer.Option("--url", envvar=["PLAZA_URL", "HF_ENDPOINT"], help="The plaza's address.", show_envvar=True),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="HF_TOKEN",
        help="An access token (default: the token saved by `hf auth login`).",
        show_default=False,
    ),
]
JobId = Annotated[int, typer.Argument(help="The job's number.", show_default=False)]


def _client(url: str, token: str | None) -> JobsClient:
    if token is None:
        from huggingface_hub import get_token

        token = get_token()
    return JobsClient(url, token)


def _read_recipe(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PlazaError(f"cannot read the recipe {path}: {reason}") from None


@train_app.command("submit")
def submit(
    recipe: Annotated[str, typer.Argument(help="The recipe: a YAML or JSON file, or - for standard input.")],
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow the job with a progress bar until it ends.")
    ] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Submit a training recipe as a job; the plaza checks it against its dataset first."""
    with _client(url, token) as client:
        job = client.submit(_read_recipe(recipe))
        typer.echo(f"submitted job {job['id']}: {job['title']}")
        typer.echo(f"follow it at {url.rstrip('/')}/jobs/{job['id']}")
        if watch:
            _watch(client, job)


@jobs_app.command("list")
def list_jobs(
    state: Annotated[
        str | None, typer.Option(help=f"Only jobs in this state: {', '.join(STATES)}.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Your jobs, newest first (an admin sees everyone's)."""
    with _client(url, token) as client:
        jobs = client.list(state=state, limit=limit)
    if not jobs:
        typer.echo("no jobs")
        return
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    for line in job_table(jobs, width):
        typer.echo(line)


@jobs_app.command("show")
def show(job_id: JobId, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """A job: its state, times, latest metrics, result and recipe."""
    with _client(url, token) as client:
        job = client.get(job_id)
    stopping = job["cancel_requested"] and job["state"] not in FINISHED
    fields = {
        "job": job["id"],
        "title": job["title"],
        "state": job["state"] + (" (cancellation requested)" if stopping else ""),
        "owner": job["owner"],
        "created": job["created_at"],
        "started": job["started_at"],
        "finished": job["finished_at"],
        "message": job["message"],
        "progress": summary(job["progress"]),
        "model": job["result"].get("url"),
    }
    for name, value in fields.items():
        if value:
            typer.echo(f"{name + ':':10}{value}")
    typer.echo("recipe:")
    typer.echo("  " + job["spec_text"].strip().replace("\n", "\n  "))


@jobs_app.command("logs")
def logs(
    job_id: JobId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the job ends.")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """A job's log lines and state changes."""
    with _client(url, token) as client:
        if not follow:
            typer.echo(client.logs(job_id), nl=False)
            return
        try:
            for event in _events(client, job_id):
                line = log_line(event["kind"], event["data"])
                if line is not None:
                    typer.echo(line)
        except KeyboardInterrupt:
            typer.echo(f"stopped following job {job_id}", err=True)
            raise typer.Exit(INTERRUPTED) from None


@jobs_app.command("cancel")
def cancel(job_id: JobId, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Cancel a job: a queued one at once, a running one at its next training step. A job that
    has already finished is left as it is, and said so."""
    with _client(url, token) as client:
        try:
            job = client.cancel(job_id)
        except JobsApiError as error:
            if error.status != CONFLICT or (done := client.get(job_id))["state"] not in FINISHED:
                raise
            typer.echo(f"job {job_id} has already {done['state']}: nothing to cancel")
            return
    if job["state"] in FINISHED:
        typer.echo(f"job {job_id} {job['state']}")
    else:
        typer.echo(f"job {job_id}: cancellation requested; it stops at its next step")


def summary(progress: dict) -> str:
    """The latest metrics in a line: epoch, step, loss, then validation and test scores."""
    parts = []
    if "epoch" in progress:
        parts.append(f"epoch {progress['epoch']}")
    if "step" in progress:
        parts.append(f"step {progress['step']}")
    scores = sorted(k for k in progress if k.startswith("val_"))
    scores += sorted(k for k in progress if k.startswith("test_"))
    return "  ".join(part for part in [*parts, _numbers(progress, ["loss", *scores])] if part)


# The one score a table row has room for: the test score once there is one, else the latest
# validation score, else the training loss; the first of these names found.
HEADLINE_SCORES = [f"{split}_{score}" for split in ("test", "val") for score in ("accuracy", "r2", "mse")]
# A title is cut short to fit the terminal, down to this many characters.
MIN_TITLE = 12


def compact(progress: dict, epochs: int | None) -> str:
    """The latest metrics in a few words: ``epoch 10/10  test_accuracy 0.97``."""
    parts = [f"epoch {progress['epoch']}" + (f"/{epochs}" if epochs else "")] if "epoch" in progress else []
    key = next((k for k in [*HEADLINE_SCORES, "loss"] if isinstance(progress.get(k), int | float)), None)
    return "  ".join(parts + ([f"{key} {progress[key]:.3g}"] if key else []))


def job_table(jobs: list[dict], width: int | None) -> list[str]:
    """The jobs as lines of aligned columns, each within ``width`` characters when given: the
    title, then the progress, are cut short (with "…") to fit. The owner column is there when
    the jobs have more than one owner (an admin's list)."""
    several = len({job["owner"] for job in jobs}) > 1
    header = ["id", "state", "title", *(["owner"] if several else []), "created", "progress"]
    rows = [
        [
            str(job["id"]),
            job["state"],
            job["title"],
            *([job["owner"]] if several else []),
            job["created_at"][:16].replace("T", " "),
            compact(job["progress"], _total_epochs(job)),
        ]
        for job in jobs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    title, progress = 2, len(header) - 1
    if width is not None:
        spare = width - (sum(widths) + 2 * (len(widths) - 1))
        if spare < 0:
            cut = min(-spare, max(0, widths[title] - MIN_TITLE))
            widths[title] -= cut
            widths[progress] = max(len(header[progress]), widths[progress] - (-spare - cut))
    return [
        "  ".join(_fit(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def _fit(cell: str, width: int) -> str:
    return cell.ljust(width) if len(cell) <= width else cell[: width - 1] + "…"


def _total_epochs(job: dict) -> int | None:
    epochs = (job.get("spec") or {}).get("training", {}).get("epochs")
    return epochs if isinstance(epochs, int) else None


def _numbers(record: dict, keys: Iterable[str]) -> str:
    return "  ".join(f"{k} {record[k]:.4g}" for k in keys if isinstance(record.get(k), int | float))


def _events(client: JobsClient, job_id: int) -> Iterator[dict]:
    """The job's events until its final state, picking up where it left off when the
    connection drops (a restarted plaza, a flaky network)."""
    after, failures = 0, 0
    while True:
        try:
            for event in client.stream(job_id, after):
                after, failures = event["id"], 0
                yield event
                if event["kind"] == "state" and event["data"].get("state") in FINISHED:
                    return
        except httpx.TransportError as exc:
            failures += 1
            if failures > RECONNECTS:
                message = f"lost the connection to the plaza at {client.http.base_url}: {exc}"
                raise JobsApiError(503, message) from None
            time.sleep(1)


def _watch(client: JobsClient, job: dict) -> None:
    """A progress bar over the epochs, fed by the job's events, with the job's log (each epoch's
    scores among its lines) printed above it; exits with the job's outcome (non-zero unless it
    succeeded)."""
    job_id, epochs = job["id"], job["spec"]["training"]["epochs"]
    progress = Progress(
        TextColumn("{task.description}", table_column=Column(min_width=9, no_wrap=True)),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
    )
    bar = progress.add_task(job["state"], total=epochs, step="")
    try:
        with progress:
            for event in _events(client, job_id):
                if event["kind"] == "metrics":
                    _move_bar(progress, bar, event["data"], epochs)
                    continue
                if event["kind"] == "state":
                    progress.update(bar, description=event["data"]["state"])
                line = log_line(event["kind"], event["data"])
                if line is not None:
                    progress.console.print(line, markup=False, highlight=False)
    except KeyboardInterrupt:
        typer.echo(
            f"stopped watching job {job_id}; it goes on. Cancel it with: plaza jobs cancel {job_id}", err=True
        )
        raise typer.Exit(INTERRUPTED) from None
    _outcome(client.get(job_id))


def _move_bar(progress: Progress, bar: TaskID, record: dict, epochs: int) -> None:
    """A step moves the bar within its epoch and shows its loss; an epoch's end fills its part.
    The scores themselves reach the screen once, as the job's log lines."""
    kind = record.get("kind")
    if kind == "step":
        scores = [k for k in record if k not in ("kind", "epoch", "step", "lr")]
        where = f"epoch {record.get('epoch')}/{epochs}  step {record.get('step')}"
        progress.update(
            bar, completed=record.get("epoch", 1) - 1, step=f"{where}  {_numbers(record, scores)}"
        )
    elif kind == "epoch":
        progress.update(bar, completed=record.get("epoch", 0))


def _outcome(job: dict) -> None:
    typer.echo(f"job {job['id']} {job['state']}" + (f": {job['message']}" if job["message"] else ""))
    if job["result"].get("url"):
        typer.echo(f"model: {job['result']['url']}")
    if job["state"] != SUCCEEDED:
        raise typer.Exit(1)
