"""The metadata schema. Alembic migrations in ``migrations/`` create it; keep them in step."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


# The largest row id: ids are Integer columns, 32-bit in PostgreSQL. A larger number in a request
# names nothing, and the database would refuse to compare with it.
LARGEST_ID = 2**31 - 1


class Account(Base):
    """A namespace: either a user (who can log in) or an organisation (which has members)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "user" | "org"
    fullname: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_org(self) -> bool:
        return self.kind == "org"


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))  # "read" | "write" | "admin"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Public part of the token used to find the row; the secret part is only stored hashed.
    lookup_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(8))  # "read" | "write"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Repo(Base):
    __tablename__ = "repos"
    __table_args__ = (UniqueConstraint("type", "namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(8))  # "model" | "dataset"
    namespace: Mapped[str] = mapped_column(String(96), index=True)
    name: Mapped[str] = mapped_column(String(96))
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    # Derived from README.md on the default branch at each commit.
    card_data: Mapped[dict] = mapped_column(JSON, default=dict)
    pipeline_tag: Mapped[str | None] = mapped_column(String(100), nullable=True)
    library_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The card's prose (front matter removed), searched by the full-text search.
    card_text: Mapped[str] = mapped_column(Text, default="")

    # The card's tags in the card's order; lists filter and count them in SQL.
    tag_rows: Mapped[list[RepoTag]] = relationship(
        order_by="RepoTag.position", lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @tags.setter
    def tags(self, tags: list[str]) -> None:
        # Rows that stay are kept (a row deleted and added again in one flush would clash).
        current = {row.tag: row for row in self.tag_rows}
        wanted = [tag for tag in dict.fromkeys(tags) if len(tag) <= TAG_LENGTH]
        self.tag_rows = [current.get(tag) or RepoTag(tag=tag) for tag in wanted]
        for position, row in enumerate(self.tag_rows):
            row.position = position


# Longer tags are not kept: an index holds a tag whole.
TAG_LENGTH = 255


class RepoTag(Base):
    """One tag of a repo's card (licence, task, library, language and the free ones alike)."""

    __tablename__ = "repo_tags"

    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Like(Base):
    __tablename__ = "likes"

    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A browser login. The cookie holds a random secret; only its sha256 is stored, so a
    leaked database cannot be replayed as logins, and logging out ends the session for good."""

    __tablename__ = "web_sessions"

    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Job(Base):
    """Work the plaza runs for a user (training now; evaluation and pipelines later). The job
    itself talks to the plaza over HTTP only; this row is the queue entry and its outcome."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "train"
    state: Mapped[str] = mapped_column(String(12), index=True)  # see jobs.queue.STATES
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # What to run: the validated spec (for training, the recipe) and the text as submitted.
    spec: Mapped[dict] = mapped_column(JSON)
    spec_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which worker runs it ("host:pid") and when that worker last said it was alive.
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Why it failed or was cancelled, in words for the user.
    message: Mapped[str] = mapped_column(Text, default="")
    # What it produced, e.g. {"repo": "alice/digits-cnn", "commit": "...", "url": "..."}.
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    # The latest metrics, for lists and progress bars.
    progress: Mapped[dict] = mapped_column(JSON, default=dict)


class JobEvent(Base):
    """What a job reported, in order: metrics, log lines and state changes. Watchers follow a
    job by asking for the events after the last id they saw."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "metrics" | "log" | "state"
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Blob(Base):
    """Content known to the blob store, by sha256. Shared by every repo that references it."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReceivedContent(Base):
    """Content whose bytes were sent to a repo (an LFS upload, or a Xet shard whose chunks
    make the file) and not necessarily committed yet. The repo's writers may commit it
    although no repo they may read holds it: knowing a sha256 is not enough, sending the
    bytes is. Garbage collection keeps the content while the row is young, then drops both."""

    __tablename__ = "received_contents"

    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Tree(Base):
    """A directory, content-addressed: its id is a hash of its sorted entries, so a directory
    that a commit leaves unchanged is the same row in both commits (and across repos)."""

    __tablename__ = "trees"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The git-style id listings show for the directory (hashed from names and oids only).
    oid: Mapped[str] = mapped_column(String(40))


class TreeItem(Base):
    """One entry of a directory: a file (sha256, size, git oid, LFS or not) or a subdirectory."""

    __tablename__ = "tree_items"

    tree_id: Mapped[str] = mapped_column(ForeignKey("trees.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024), primary_key=True)
    # The file's git oid, or the subdirectory's listing oid.
    oid: Mapped[str] = mapped_column(String(40))
    subtree_id: Mapped[str | None] = mapped_column(ForeignKey("trees.id"), nullable=True, index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lfs: Mapped[bool] = mapped_column(Boolean, default=False)


class Commit(Base):
    __tablename__ = "commits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tree_id: Mapped[str] = mapped_column(ForeignKey("trees.id"))
    # 1 for a first commit, its parent's plus one otherwise: history pages are generation ranges.
    generation: Mapped[int] = mapped_column(Integer)


class Ref(Base):
    __tablename__ = "refs"

    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "branch" | "tag"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    commit_id: Mapped[str] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)


class Xorb(Base):
    """A Xet xorb (a run of compressed chunks) held in the xorb store, by its hash string."""

    __tablename__ = "xorbs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    num_chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class XorbChunk(Base):
    """One chunk of a xorb: found by its hash to answer deduplication queries."""

    __tablename__ = "xorb_chunks"

    xorb_hash: Mapped[str] = mapped_column(ForeignKey("xorbs.hash", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk_hash: Mapped[str] = mapped_column(String(64), index=True)
    byte_start: Mapped[int] = mapped_column(BigInteger)
    unpacked_size: Mapped[int] = mapped_column(Integer)
    # Where the chunk's header starts in the serialized xorb, so a read seeks straight to it.
    # Empty for xorbs stored before revision 0003; the reader then finds it in the xorb.
    packed_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class XetFile(Base):
    """A file uploaded through Xet: how to rebuild it from xorb chunk ranges, and its sha256."""

    __tablename__ = "xet_files"

    file_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # [[xorb hash, first chunk, end chunk (exclusive), unpacked bytes], ...]
    terms: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_repos_type_name", Repo.type, Repo.name)
# Names are one regardless of case: ``Alice`` cannot sign up beside ``alice``, nor ``demo/IRIS``
# be created beside ``demo/iris``; lookups by lower(...) use these indexes.
Index("uq_accounts_lower_name", func.lower(Account.name), unique=True)
Index(
    "uq_repos_type_lower_namespace_name",
    Repo.type,
    func.lower(Repo.namespace),
    func.lower(Repo.name),
    unique=True,
)
Index("ix_repo_tags_tag", RepoTag.tag, RepoTag.repo_id)
Index("ix_commits_repo_generation", Commit.repo_id, Commit.generation)
