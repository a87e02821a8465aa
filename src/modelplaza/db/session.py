"""Engine and sessions for SQLite (embedded, WAL) and PostgreSQL (scale-out)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, UpdateBase, create_engine, event, inspect, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _private_files(url: str) -> None:
    """The SQLite database file, created 0600 (or narrowed to it) before SQLite opens it: SQLite
    gives its -wal and -shm files the database file's mode, and a default umask would leave
    the password and token hashes readable by every local user."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite says so itself when it opens it
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for kept in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if kept.exists() and kept.stat().st_mode & 0o077:
            kept.chmod(0o600)


def _sqlite_engine(url: str) -> Engine:
    _private_files(url)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 60}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades
        # fails at once with "database is locked" instead of waiting its turn.
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The plaza's database. Its errors name no values (``hide_parameters``): they reach the
    log, and a value may be a secret's hash or a user's private text."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(
                url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
            )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(write=True), expire_on_commit=False)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to the newest Alembic revision (or to ``revision``)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        command.upgrade(config, revision)

    def has_schema(self) -> bool:
        """Whether migrations have run on this database (it holds a plaza)."""
        return inspect(self.engine).has_table("alembic_version")

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends and rolls back on any error."""
        with self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def rows_matched(session: Session, statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE and say how many rows it matched."""
    result = session.execute(statement)
    # Session.execute is typed for queries; for these statements it gives a CursorResult.
    assert isinstance(result, CursorResult)
    return result.rowcount
