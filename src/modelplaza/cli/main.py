"""The ``plaza`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from modelplaza.cli import admin
from modelplaza.config import Settings
from modelplaza.errors import PlazaError

app = typer.Typer(
    help="ModelPlaza: a self-hosted hub to share, train, evaluate and serve models and datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(admin.app, name="admin")


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
    """Seed demo content (a user, a real embedding model, a dataset), then serve."""
    from modelplaza.demo import seed
    from modelplaza.server import run

    settings = settings_from(data_dir, host=host, port=port)
    seed(settings)
    run(settings)


def main() -> None:
    try:
        app()
    except PlazaError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
