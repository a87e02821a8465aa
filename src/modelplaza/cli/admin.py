"""``plaza admin``: accounts and tokens, for operators' scripts. Each command works on the
plaza in ``--data-dir`` (PLAZA_DATA_DIR) and refuses to create one: a plaza is made by
``plaza serve``."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

from modelplaza.auth import accounts, sessions
from modelplaza.config import Settings
from modelplaza.errors import BadRequest, PlazaError
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


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="PLAZA_DATA_DIR",
        show_envvar=True,
        help="The plaza's data directory, as given to `plaza serve` (default: .plaza).",
        show_default=False,
    ),
]
Password = Annotated[
    str | None,
    typer.Option(
        help="The password (it then shows in the shell's history; default: asked for twice on a "
        "terminal, else the first line of standard input).",
        show_default=False,
    ),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _plaza(data_dir: Path | None) -> Plaza:
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    return Plaza.existing(settings)


def _password(given: str | None, from_stdin: bool) -> str:
    """The password from --password, standard input, or typed twice on the terminal."""
    if given is not None:
        if from_stdin:
            raise BadRequest("give the password with --password or --password-stdin, not both")
        return given
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise BadRequest("no password on standard input: pipe one in, or run this on a terminal")
        return password
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise BadRequest("the two passwords differ")
    return password


@app.command("create-user")
@_one_line_errors
def create_user(
    name: str,
    password: Password = None,
    password_stdin: PasswordStdin = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a plaza administrator.")] = False,
    email: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user who logs in with a password (asked for twice on a terminal)."""
    plaza = _plaza(data_dir)
    with plaza.db.read() as session:  # a name that cannot be had fails before the password is asked
        accounts.check_available(session, name)
    password_hash = accounts.new_password(_password(password, password_stdin))
    with plaza.db.write() as session:
        accounts.create_user(session, name, password_hash, is_admin=admin, email=email)
    typer.echo(f"created user {name}", err=True)


@app.command("set-password")
@_one_line_errors
def set_password(
    name: str, password: Password = None, password_stdin: PasswordStdin = False, data_dir: DataDir = None
) -> None:
    """Change a user's password; their browser logins end (their tokens still work)."""
    plaza = _plaza(data_dir)
    with plaza.db.read() as session:
        accounts.get_user(session, name)
    password_hash = accounts.new_password(_password(password, password_stdin))
    with plaza.db.write() as session:
        user = accounts.set_password(session, name, password_hash)
        sessions.end_sessions(session, user)
    typer.echo(f"changed the password of {name}", err=True)


@app.command("create-token")
@_one_line_errors
def create_token(
    name: str,
    write: Annotated[bool, typer.Option("--write", help="Allow writing (default: read only).")] = False,
    token_name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
    data_dir: DataDir = None,
) -> None:
    """Create an API token for a user and print it (only the token, on stdout)."""
    with _plaza(data_dir).db.write() as session:
        token = accounts.create_token(session, name, token_name, write=write)
    typer.echo(token)


@app.command("create-org")
@_one_line_errors
def create_org(
    org: str,
    owner: Annotated[str, typer.Option(help="The first admin of the org.")],
    data_dir: DataDir = None,
) -> None:
    """Create an organisation owned by a user."""
    with _plaza(data_dir).db.write() as session:
        accounts.create_org(session, org, owner)
    typer.echo(f"created organisation {org}", err=True)


@app.command("add-member")
@_one_line_errors
def add_member(
    org: str,
    name: str,
    role: Annotated[str, typer.Option(help="read, write or admin.")] = "read",
    data_dir: DataDir = None,
) -> None:
    """Add a user to an organisation, or change their role."""
    with _plaza(data_dir).db.write() as session:
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
    data_dir: DataDir = None,
) -> None:
    """Free commits, files, xorbs and blobs that no branch or tag of any repo reaches."""
    from datetime import UTC, datetime, timedelta

    from modelplaza import gc as collector

    plaza = _plaza(data_dir)
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
