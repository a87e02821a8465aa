"""account names and repo ids unique regardless of case

Unique indexes on lower(name) for accounts and on (type, lower(namespace), lower(name)) for
repos. A plaza that already holds two accounts (or two repos) whose names differ only in case
cannot get them: the upgrade stops before changing anything and lists them, since only an
operator can say which one keeps the name (renaming one would change its owner's login, URLs
and clones). Rename or delete all but one of each, then start the plaza again.

Revision ID: 0007
Revises: 0006
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from modelplaza.errors import PlazaError

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

accounts = sa.table("accounts", sa.column("id", sa.Integer), sa.column("name", sa.String))
repos = sa.table(
    "repos",
    sa.column("id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("namespace", sa.String),
    sa.column("name", sa.String),
)


class NamesDifferOnlyInCase(PlazaError):
    """The data holds names the new unique indexes would refuse. A PlazaError, so that the
    ``plaza`` command that ran the upgrade says why in one line."""

    status = 500


def upgrade() -> None:
    connection = op.get_bind()
    clashes = _account_clashes(connection) + _repo_clashes(connection)
    if clashes:
        raise NamesDifferOnlyInCase(
            "Cannot upgrade the database: names must now be unique regardless of case, and these "
            f"differ only in case: {'; '.join(clashes)}. Nothing was changed. Rename or delete all "
            "but one of each (in the database), then start the plaza again."
        )
    op.create_index("uq_accounts_lower_name", "accounts", [sa.text("lower(name)")], unique=True)
    op.create_index(
        "uq_repos_type_lower_namespace_name",
        "repos",
        ["type", sa.text("lower(namespace)"), sa.text("lower(name)")],
        unique=True,
    )


def _account_clashes(connection) -> list[str]:
    """Accounts whose names differ only in case, as "accounts alice and Alice"."""
    lowered = sa.func.lower(accounts.c.name)
    taken = sa.select(lowered.label("key")).group_by(lowered).having(sa.func.count() > 1).subquery()
    rows = connection.execute(
        sa.select(accounts.c.name).join(taken, lowered == taken.c.key).order_by(lowered, accounts.c.id)
    )
    groups: dict[str, list[str]] = defaultdict(list)
    for (name,) in rows:
        groups[name.lower()].append(name)
    return [f"accounts {' and '.join(names)}" for names in groups.values()]


def _repo_clashes(connection) -> list[str]:
    """Repos of one type whose ids differ only in case, as "model repos demo/iris and demo/IRIS"."""
    namespace, name = sa.func.lower(repos.c.namespace), sa.func.lower(repos.c.name)
    taken = (
        sa.select(repos.c.type.label("type"), namespace.label("namespace"), name.label("name"))
        .group_by(repos.c.type, namespace, name)
        .having(sa.func.count() > 1)
        .subquery()
    )
    same = sa.and_(repos.c.type == taken.c.type, namespace == taken.c.namespace, name == taken.c.name)
    rows = connection.execute(
        sa.select(repos.c.type, repos.c.namespace, repos.c.name)
        .join(taken, same)
        .order_by(repos.c.type, namespace, name, repos.c.id)
    )
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind, owner, repo in rows:
        groups[kind, f"{owner}/{repo}".lower()].append(f"{owner}/{repo}")
    return [f"{kind} repos {' and '.join(ids)}" for (kind, _), ids in groups.items()]


def downgrade() -> None:
    op.drop_index("uq_repos_type_lower_namespace_name", table_name="repos")
    op.drop_index("uq_accounts_lower_name", table_name="accounts")
