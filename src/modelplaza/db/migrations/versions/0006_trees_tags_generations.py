"""trees per directory, a tags table, commit generations

Every commit's file rows (tree_entries) become content-addressed directories (trees and
tree_items) that commits share; each commit gets its root tree and its generation (1 for a
first commit, the parent's plus one otherwise); the repos' JSON tags become repo_tags rows.

The directory hashing is written out here as of this revision, so that the migration keeps
meaning what it meant when the app changes; hub/trees.py hashes the same way today (a test
checks that they agree).

Revision ID: 0006
Revises: 0005
"""

import hashlib
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TAG_LENGTH = 255
_BATCH = 1000

commits = sa.table(
    "commits",
    sa.column("id", sa.String),
    sa.column("parent_id", sa.String),
    sa.column("tree_id", sa.String),
    sa.column("generation", sa.Integer),
)
tree_entries = sa.table(
    "tree_entries",
    sa.column("commit_id", sa.String),
    sa.column("path", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("git_oid", sa.String),
    sa.column("lfs", sa.Boolean),
)
trees = sa.table("trees", sa.column("id", sa.String), sa.column("oid", sa.String))
tree_items = sa.table(
    "tree_items",
    sa.column("tree_id", sa.String),
    sa.column("name", sa.String),
    sa.column("oid", sa.String),
    sa.column("subtree_id", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("lfs", sa.Boolean),
)
repos = sa.table("repos", sa.column("id", sa.Integer), sa.column("tags", sa.JSON))
repo_tags = sa.table(
    "repo_tags",
    sa.column("repo_id", sa.Integer),
    sa.column("tag", sa.String),
    sa.column("position", sa.Integer),
)


def upgrade() -> None:
    _create_tables()
    op.add_column("commits", sa.Column("tree_id", sa.String(40), nullable=True))
    op.add_column("commits", sa.Column("generation", sa.Integer(), nullable=True))
    connection = op.get_bind()
    _convert_trees(connection)
    _fill_generations(connection)
    _move_tags(connection)
    op.drop_index("ix_tree_entries_sha256", table_name="tree_entries")
    op.drop_table("tree_entries")
    with op.batch_alter_table("commits") as batch:
        batch.alter_column("tree_id", existing_type=sa.String(40), nullable=False)
        batch.alter_column("generation", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_commits_tree_id_trees", "trees", ["tree_id"], ["id"])
    op.create_index("ix_commits_repo_generation", "commits", ["repo_id", "generation"])
    op.drop_column("repos", "tags")


def _create_tables() -> None:
    op.create_table(
        "trees",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("oid", sa.String(40), nullable=False),
    )
    op.create_table(
        "tree_items",
        sa.Column("tree_id", sa.String(40), sa.ForeignKey("trees.id"), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("oid", sa.String(40), nullable=False),
        sa.Column("subtree_id", sa.String(40), sa.ForeignKey("trees.id"), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("lfs", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_tree_items_subtree_id", "tree_items", ["subtree_id"])
    op.create_index("ix_tree_items_sha256", "tree_items", ["sha256"])
    op.create_table(
        "repo_tags",
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(TAG_LENGTH), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_repo_tags_tag", "repo_tags", ["tag", "repo_id"])


def _listing_oid(entries: dict) -> str:
    digest = hashlib.sha1(b"tree\0")
    for name in sorted(entries):
        digest.update(f"{name}\0{entries[name]['oid']}\n".encode())
    return digest.hexdigest()


def _tree_id(entries: dict) -> str:
    digest = hashlib.sha1(b"plaza-tree\0")
    for name in sorted(entries):
        e = entries[name]
        if e["subtree_id"] is not None:
            line = f"d\0{name}\0{e['subtree_id']}\n"
        else:
            line = f"f\0{name}\0{e['oid']}\0{e['sha256']}\0{e['size']}\0{int(bool(e['lfs']))}\n"
        digest.update(line.encode())
    return digest.hexdigest()


class _TreeWriter:
    """Stores each distinct directory once, however many commits hold it."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.stored: set[str] = set()
        self.pending_trees: list[dict] = []
        self.pending_items: list[dict] = []

    def store(self, files: dict[str, dict]) -> str:
        """The root tree id of a commit's files (path -> file columns)."""
        nested: dict = {}
        for path, columns in files.items():
            *folders, name = path.split("/")
            folder = nested
            for part in folders:
                folder = folder.setdefault(part, {})
            folder[name] = columns
        return self._store_dir(nested)[0]

    def _store_dir(self, nested: dict) -> tuple[str, str]:
        entries = {}
        for name, value in nested.items():
            if "git_oid" in value:
                entries[name] = dict(
                    oid=value["git_oid"],
                    subtree_id=None,
                    sha256=value["sha256"],
                    size=value["size"],
                    lfs=value["lfs"],
                )
            else:
                subtree, oid = self._store_dir(value)
                entries[name] = dict(oid=oid, subtree_id=subtree, sha256=None, size=None, lfs=False)
        tree, oid = _tree_id(entries), _listing_oid(entries)
        if tree not in self.stored:
            self.stored.add(tree)
            self.pending_trees.append({"id": tree, "oid": oid})
            self.pending_items += [dict(tree_id=tree, name=name, **e) for name, e in entries.items()]
            if len(self.pending_items) >= _BATCH:
                self.flush()
        return tree, oid

    def flush(self) -> None:
        if self.pending_trees:
            self.connection.execute(trees.insert(), self.pending_trees)
        if self.pending_items:
            self.connection.execute(tree_items.insert(), self.pending_items)
        self.pending_trees, self.pending_items = [], []


def _convert_trees(connection) -> None:
    files: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in connection.execute(sa.select(tree_entries)).mappings():
        files[row["commit_id"]][row["path"]] = dict(row)
    writer = _TreeWriter(connection)
    roots = [
        {"commit": commit, "tree": writer.store(files.pop(commit, {}))}
        for commit in connection.scalars(sa.select(commits.c.id)).all()
    ]
    writer.flush()
    _update_commits(connection, "tree_id", "tree", roots)


def _update_commits(connection, column: str, key: str, rows: list[dict]) -> None:
    statement = (
        commits.update().where(commits.c.id == sa.bindparam("commit")).values({column: sa.bindparam(key)})
    )
    for start in range(0, len(rows), _BATCH):
        connection.execute(statement, rows[start : start + _BATCH])


def _fill_generations(connection) -> None:
    parents = dict(connection.execute(sa.select(commits.c.id, commits.c.parent_id)).tuples().all())
    generations: dict[str, int] = {}
    for commit in parents:
        chain = []
        current = commit
        while current is not None and current not in generations:
            chain.append(current)
            current = parents.get(current)
        base = generations.get(current, 0)
        for depth, member in enumerate(reversed(chain), start=1):
            generations[member] = base + depth
    rows = [{"commit": commit, "number": g} for commit, g in generations.items()]
    _update_commits(connection, "generation", "number", rows)


def _move_tags(connection) -> None:
    rows = []
    for repo, tags in connection.execute(sa.select(repos.c.id, repos.c.tags)):
        kept = [tag for tag in dict.fromkeys(map(str, tags or [])) if len(tag) <= TAG_LENGTH]
        rows += [{"repo_id": repo, "tag": tag, "position": i} for i, tag in enumerate(kept)]
    for start in range(0, len(rows), _BATCH):
        connection.execute(repo_tags.insert(), rows[start : start + _BATCH])


def downgrade() -> None:
    op.add_column("repos", sa.Column("tags", sa.JSON(), nullable=True))
    op.create_table(
        "tree_entries",
        sa.Column(
            "commit_id", sa.String(40), sa.ForeignKey("commits.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("git_oid", sa.String(40), nullable=False),
        sa.Column("lfs", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_tree_entries_sha256", "tree_entries", ["sha256"])
    connection = op.get_bind()
    _expand_trees(connection)
    _restore_tags(connection)
    op.drop_index("ix_commits_repo_generation", "commits")
    with op.batch_alter_table("commits") as batch:
        batch.drop_constraint("fk_commits_tree_id_trees", type_="foreignkey")
        batch.drop_column("tree_id")
        batch.drop_column("generation")
    op.drop_index("ix_repo_tags_tag", "repo_tags")
    op.drop_table("repo_tags")
    op.drop_index("ix_tree_items_sha256", "tree_items")
    op.drop_index("ix_tree_items_subtree_id", "tree_items")
    op.drop_table("tree_items")
    op.drop_table("trees")


def _expand_trees(connection) -> None:
    items: dict[str, list] = defaultdict(list)
    for row in connection.execute(sa.select(tree_items)).mappings():
        items[row["tree_id"]].append(row)

    def files(tree: str, prefix: str):
        for item in items[tree]:
            if item["subtree_id"] is not None:
                yield from files(item["subtree_id"], f"{prefix}{item['name']}/")
            else:
                yield prefix + item["name"], item

    rows = []
    for commit, root in connection.execute(sa.select(commits.c.id, commits.c.tree_id)):
        rows += [
            dict(
                commit_id=commit,
                path=path,
                sha256=i["sha256"],
                size=i["size"],
                git_oid=i["oid"],
                lfs=i["lfs"],
            )
            for path, i in files(root, "")
        ]
    for start in range(0, len(rows), _BATCH):
        connection.execute(tree_entries.insert(), rows[start : start + _BATCH])


def _restore_tags(connection) -> None:
    tags: dict[int, list[str]] = defaultdict(list)
    for repo, tag in connection.execute(sa.select(repo_tags.c.repo_id, repo_tags.c.tag).order_by("position")):
        tags[repo].append(tag)
    update = repos.update().where(repos.c.id == sa.bindparam("repo")).values(tags=sa.bindparam("value"))
    rows = [{"repo": repo, "value": tags.get(repo, [])} for repo in connection.scalars(sa.select(repos.c.id))]
    if rows:
        connection.execute(update, rows)
