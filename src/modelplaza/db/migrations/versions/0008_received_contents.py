"""content received by a repo ahead of its commit

A commit may name stored content by its sha256 only if the committer may read a repo that
holds it, or its bytes were sent to the repo committed to: this table records the latter.
It starts empty: uploads in flight during the upgrade are sent again by their clients.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_contents",
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_received_contents_received_at", "received_contents", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_received_contents_received_at", "received_contents")
    op.drop_table("received_contents")
