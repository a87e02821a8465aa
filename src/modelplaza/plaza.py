"""The Plaza object owns the running state: settings, database, blob store and signer.
It is created once per process and handed explicitly to whatever needs it."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from sqlalchemy import make_url

from modelplaza.auth.signing import Signer
from modelplaza.auth.throttle import LoginThrottle
from modelplaza.config import Settings
from modelplaza.db import Database
from modelplaza.errors import PlazaError
from modelplaza.hub.content import Contents
from modelplaza.storage.factory import open_store


def _private_dir(path: Path) -> None:
    """The data directory, made (or narrowed to) 0700: it holds the database, with password and
    token hashes, the secret key and every stored file, none of them for other local users."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return Path(path).read_text().strip().encode()


class NoPlaza(PlazaError):
    """The data directory or database holds no plaza yet."""


def _no_plaza_message(settings: Settings, *, empty_database: bool = False) -> str:
    where = settings.data_dir
    if empty_database and settings.database_url:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        return f"no plaza in the database {url}; run `plaza serve` with that database first"
    return f"no plaza at {where}; run `plaza serve --data-dir {where}` first or pass --data-dir"


def _require_plaza(settings: Settings) -> None:
    """Fails before anything is created: the data dir, and an SQLite file, must be there."""
    url = make_url(settings.resolved_database_url)
    missing_sqlite = url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file()
    if not settings.data_dir.is_dir() or missing_sqlite:
        raise NoPlaza(_no_plaza_message(settings))


class Plaza:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        _private_dir(self.settings.data_dir)
        self.db = Database(self.settings.resolved_database_url)
        self.blobs = open_store(self.settings, "blobs")
        self.xorbs = open_store(self.settings, "xorbs")
        self.contents = Contents(self.blobs, self.xorbs)
        self.signer = Signer(_secret(self.settings))
        self.logins = LoginThrottle()
        # Set once a job is queued here, so that a worker in this process starts it at once
        # rather than at its next look at the queue.
        self.job_queued = threading.Event()

    @classmethod
    def existing(cls, settings: Settings) -> Plaza:
        """The plaza these settings name, brought to the current schema; NoPlaza when there is
        none yet (commands that change a plaza must not create an empty one beside the real)."""
        _require_plaza(settings)
        database = Database(settings.resolved_database_url)
        try:
            if not database.has_schema():
                raise NoPlaza(_no_plaza_message(settings, empty_database=True))
        finally:
            database.dispose()
        return cls(settings).migrate()

    def migrate(self) -> Plaza:
        self.db.migrate()
        return self

    def close(self) -> None:
        self.db.dispose()
