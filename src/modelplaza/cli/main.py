"""The ``plaza`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from modelplaza.cli import admin, jobs
from modelplaza.config import Settings
from modelplaza.errors import PlazaError

app = typer.Typer(
    help="ModelPlaza: a self-hosted hub to share, train, evaluate and serve models and datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(admin.app, name="admin")
app.add_typer(jobs.train_app, name="train")
app.add_typer(jobs.jobs_app, name="jobs")


def settings_from(data_dir: Path | None, **overrides) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the database and files live (PLAZA_DATA_DIR).")
    ] = None,
) -> None:
    """Serve the plaza (web pages and the Hugging Face–compatible API)."""
    from modelplaza.server import run

    run(settings_from(data_dir, host=host, port=port))


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Seed demo content (an admin user `demo`, a real embedding model, two datasets), then serve."""
    from modelplaza.demo import seed
    from modelplaza.server import run

    settings = settings_from(data_dir, host=host, port=port)
    seed(settings)
    run(settings)


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once (PLAZA_JOB_CONCURRENCY).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="Where jobs reach the plaza; default: PLAZA_PUBLIC_URL, else its host and port."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the database and files live (PLAZA_DATA_DIR).")
    ] = None,
) -> None:
    """Run queued jobs, without serving: beside a `plaza serve` with PLAZA_EMBEDDED_WORKER=false,
    or for more capacity. It shares the plaza's database and secret key."""
    import logging
    import signal

    from modelplaza.jobs.worker import Worker, local_endpoint
    from modelplaza.plaza import Plaza

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from(data_dir)
    plaza = Plaza.existing(settings)
    loop = Worker(
        plaza,
        endpoint or settings.public_url or local_endpoint(settings),
        concurrency or settings.job_concurrency,
    )
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: loop.request_stop())
    try:
        loop.run()
    finally:
        plaza.close()


def main() -> None:
    try:
        app()
    except PlazaError as exc:
        # One line whatever the message: a recipe's problems are joined with "; ".
        lines = (" ".join(line.split()) for line in exc.message.splitlines())
        typer.echo(f"error: {'; '.join(line for line in lines if line)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
