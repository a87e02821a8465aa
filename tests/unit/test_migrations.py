"""The Alembic migrations build exactly the schema db/models.py describes, on SQLite and PostgreSQL."""

import hashlib
import os
import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.exc import IntegrityError

from modelplaza.db.models import Base, Commit, Repo, Tree
from modelplaza.db.session import Database
from modelplaza.errors import PlazaError
from modelplaza.hub import gitobj, trees

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# SQLite cannot reflect the indexes on lower(name): the schema comparison skips them there, and
# test_the_database_refuses_names_that_differ_only_in_case checks what they do instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


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


def _file(text: str, lfs: bool = False) -> dict:
    data = text.encode()
    sha256 = hashlib.sha256(data).hexdigest()
    oid = gitobj.lfs_pointer_oid(sha256, len(data)) if lfs else gitobj.blob_oid(data)
    return dict(sha256=sha256, size=len(data), git_oid=oid, lfs=lfs)


# Revision 0005's data: a history of three commits on main and a branch off the second one.
FIRST = {".gitattributes": _file("*.bin filter=lfs\n")}
SECOND = {**FIRST, "a/x.txt": _file("x"), "a/b/y.bin": _file("weights", lfs=True)}
THIRD = {**SECOND, "README.md": _file("---\ntags: [tiny]\n---\n")}
BRANCHED = {k: v for k, v in SECOND.items() if k != "a/b/y.bin"}
HISTORY = {"c1": (None, FIRST), "c2": ("c1", SECOND), "c3": ("c2", THIRD), "c4": ("c2", BRANCHED)}


def _seed_revision_0005(engine) -> None:
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            tables.tables["accounts"].insert(),
            [dict(id=1, name="alice", kind="user", fullname="", is_admin=False, created_at=now)],
        )
        connection.execute(
            tables.tables["repos"].insert(),
            [
                dict(
                    id=1, type="model", namespace="alice", name="tiny", owner_id=1, private=False,
                    created_at=now, last_modified=now, downloads=0, likes=0, card_data={},
                    tags=["tiny", "license:mit", "tiny"], pipeline_tag=None, library_name=None, card_text="",
                )
            ],
        )  # fmt: skip
        for commit, (parent, files) in HISTORY.items():
            connection.execute(
                tables.tables["commits"].insert(),
                [
                    dict(
                        id=commit,
                        repo_id=1,
                        parent_id=parent,
                        title=commit,
                        message="",
                        author="alice",
                        created_at=now,
                    )
                ],
            )
            connection.execute(
                tables.tables["tree_entries"].insert(),
                [dict(commit_id=commit, path=path, **entry) for path, entry in files.items()],
            )


def test_upgrade_from_0005_converts_trees_tags_and_generations(database):
    database.migrate("0005")
    _seed_revision_0005(database.engine)
    database.migrate()
    with database.read() as session:
        for commit, (_, files) in HISTORY.items():
            assert trees.load_files(session, commit) == {
                p: trees.FileEntry(**e) for p, e in sorted(files.items())
            }
        generations = dict(session.execute(select(Commit.id, Commit.generation)).tuples().all())
        assert generations == {"c1": 1, "c2": 2, "c3": 3, "c4": 3}
        # An unchanged directory is one tree, named by both commits.
        dirs = {c: trees.load_dirs(session, [trees.root_of(session, c)]) for c in ("c2", "c3")}
        assert dirs["c2"][trees.root_of(session, "c2")]["a"] == dirs["c3"][trees.root_of(session, "c3")]["a"]
        # The directories listings show keep their oids, and the app's hashing gives the same ids.
        listed = trees.snapshot(session, "c3")
        assert listed.dir_oids == trees.Snapshot.build(listed.files).dir_oids
        editor = trees.TreeEditor(session, None)
        for path, entry in THIRD.items():
            editor.put(path, trees.FileEntry(**entry))
        assert editor.write() == trees.root_of(session, "c3")
        assert session.get(Repo, 1).tags == ["tiny", "license:mit"]
        assert session.scalars(select(Tree.id)).all()  # The old file rows are gone, the trees remain.
    assert "tree_entries" not in inspect(database.engine).get_table_names()


def _insert(engine, table: str, rows: list[dict]) -> None:
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        connection.execute(tables.tables[table].insert(), rows)


def _account(id: int, name: str) -> dict:
    return dict(id=id, name=name, kind="user", fullname="", is_admin=False, created_at=datetime.now(UTC))


def _repo(id: int, repo_type: str, repo_id: str) -> dict:
    namespace, name = repo_id.split("/")
    now = datetime.now(UTC)
    return dict(
        id=id, type=repo_type, namespace=namespace, name=name, owner_id=1, private=False, created_at=now,
        last_modified=now, downloads=0, likes=0, card_data={}, card_text="",
    )  # fmt: skip


def test_the_database_refuses_names_that_differ_only_in_case(database):
    database.migrate()
    _insert(database.engine, "accounts", [_account(1, "alice")])
    with pytest.raises(IntegrityError):
        _insert(database.engine, "accounts", [_account(2, "ALICE")])
    _insert(database.engine, "repos", [_repo(1, "model", "alice/iris"), _repo(2, "dataset", "alice/IRIS")])
    with pytest.raises(IntegrityError):
        _insert(database.engine, "repos", [_repo(3, "model", "Alice/Iris")])


def test_upgrade_to_0007_stops_before_changing_anything_when_names_differ_only_in_case(database):
    database.migrate("0006")
    _insert(database.engine, "accounts", [_account(1, "alice"), _account(2, "Alice"), _account(3, "bob")])
    _insert(
        database.engine,
        "repos",
        [
            _repo(1, "model", "alice/iris"),
            _repo(2, "model", "alice/IRIS"),
            _repo(3, "dataset", "alice/Iris"),  # Another type: no clash.
            _repo(4, "model", "bob/x"),
        ],
    )
    with pytest.raises(PlazaError) as refused:
        database.migrate()
    message = refused.value.message
    assert "accounts alice and Alice" in message
    assert "model repos alice/iris and alice/IRIS" in message
    assert "bob" not in message and "dataset" not in message
    assert "Nothing was changed" in message
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == ("0006",)
    with database.read() as session:
        assert session.scalars(select(Repo.name).order_by(Repo.id)).all() == ["iris", "IRIS", "Iris", "x"]
    # Once an operator renames one of each, the upgrade goes through.
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE accounts SET name = 'alice2' WHERE id = 2"))
        connection.execute(text("UPDATE repos SET name = 'iris2' WHERE id = 2"))
    database.migrate()
    with pytest.raises(IntegrityError):
        _insert(database.engine, "accounts", [_account(5, "ALICE")])
