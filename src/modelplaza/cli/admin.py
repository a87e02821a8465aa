"""``plaza admin``: accounts and tokens, for operators' scripts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated

import typer

from modelplaza.auth import accounts
from modelplaza.config import Settings
from modelplaza.errors import PlazaError
from modelplaza.plaza import Plaza

app = typer.Typer(help="Manage users, organisations and tokens.", no_args_is_help=True)


def _one_line_errors(command: Callable) -> Callable:
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PlazaError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            sys.exit(1)

    return wrapper


def _plaza() -> Plaza:
    return Plaza(Settings()).migrate()


@app.command("create-user")
@_one_line_errors
def create_user(
    name: str,
    password: Annotated[str | None, typer.Option(help="Password for the web login.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a plaza administrator.")] = False,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user."""
    password_hash = accounts.new_password(password) if password is not None else None
    with _plaza().db.write() as session:
        accounts.create_user(session, name, password_hash, is_admin=admin, email=email)
    typer.echo(f"created user {name}", err=True)


@app.command("create-token")
@_one_line_errors
def create_token(
    name: str,
    write: Annotated[bool, typer.Option("--write", help="Allow writing (default: read only).")] = False,
    token_name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
) -> None:
    """Create an API token for a user and print it (only the token, on stdout)."""
    with _plaza().db.write() as session:
        token = accounts.create_token(session, name, token_name, write=write)
    typer.echo(token)


@app.command("create-org")
@_one_line_errors
def create_org(org: str, owner: Annotated[str, typer.Option(help="The first admin of the org.")]) -> None:
    """Create an organisation owned by a user."""
    with _plaza().db.write() as session:
        accounts.create_org(session, org, owner)
    typer.echo(f"created organisation {org}", err=True)


@app.command("add-member")
@_one_line_errors
def add_member(
    org: str,
    name: str,
    role: Annotated[str, typer.Option(help="read, write or admin.")] = "read",
) -> None:
    """Add a user to an organisation, or change their role."""
    with _plaza().db.write() as session:
        accounts.set_member(session, org, name, role)
    typer.echo(f"{name} is now {role} in {org}", err=True)


@app.command("gc")
@_one_line_errors
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be freed; change nothing.")
    ] = False,
    grace_hours: Annotated[
        float, typer.Option(help="Keep anything younger than this: uploads may still be on their way.")
    ] = 24.0,
) -> None:
    """Free commits, files, xorbs and blobs that no branch or tag of any repo reaches."""
    from datetime import UTC, datetime, timedelta

    from modelplaza import gc as collector

    plaza = _plaza()
    cutoff = datetime.now(UTC) - timedelta(hours=grace_hours)
    listing = collector.list_stores(plaza.blobs, plaza.xorbs, cutoff, dry_run=dry_run)
    with plaza.db.write() as session:
        report = collector.collect(session, listing, cutoff=cutoff, dry_run=dry_run)
    if not dry_run:
        collector.remove_files(report, plaza.blobs, plaza.xorbs)
    verb = "would free" if dry_run else "freed"
    typer.echo(
        f"{verb} {report.freed_bytes} bytes: {report.blobs} blobs, {report.xorbs} xorbs, "
        f"{report.xet_files} Xet files, {report.commits} unreachable commits, "
        f"{report.trees} unused trees, {report.temp_files} stale uploads, "
        f"{report.unrecorded} unrecorded objects"
    )
