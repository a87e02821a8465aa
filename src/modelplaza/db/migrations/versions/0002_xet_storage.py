"""xet storage

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xet_files",
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_hash"),
    )
    op.create_index(op.f("ix_xet_files_sha256"), "xet_files", ["sha256"], unique=False)
    op.create_table(
        "xorbs",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("num_chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "xorb_chunks",
        sa.Column("xorb_hash", sa.String(length=64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("chunk_hash", sa.String(length=64), nullable=False),
        sa.Column("byte_start", sa.BigInteger(), nullable=False),
        sa.Column("unpacked_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["xorb_hash"], ["xorbs.hash"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("xorb_hash", "index"),
    )
    op.create_index(op.f("ix_xorb_chunks_chunk_hash"), "xorb_chunks", ["chunk_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_xorb_chunks_chunk_hash"), table_name="xorb_chunks")
    op.drop_table("xorb_chunks")
    op.drop_table("xorbs")
    op.drop_index(op.f("ix_xet_files_sha256"), table_name="xet_files")
    op.drop_table("xet_files")
