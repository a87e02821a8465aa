"""The Alembic migrations build exactly the schema db/models.py describes, on SQLite and PostgreSQL."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from modelplaza.db.models import Base
from modelplaza.db.session import Database

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_database():
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("PLAZA_TEST_DATABASE") == "postgres":
            raise
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    name = f"plaza_migrate_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'plaza.db'}")
        yield db
        db.dispose()
        return
    for url in _postgres_database():
        db = Database(url)
        yield db
        db.dispose()


def test_migrate_creates_every_table(database):
    database.migrate()
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrated_schema_matches_the_models(database):
    database.migrate()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrate_twice_is_harmless(database):
    database.migrate()
    database.migrate()
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads()
