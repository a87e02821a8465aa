"""Atomic commits: a new tree from the branch head plus operations, and the branch moved
to it in the same transaction, or nothing at all."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from modelplaza.db.blobs import register_blob
from modelplaza.db.models import Blob, Commit, Ref, Repo, utcnow
from modelplaza.errors import BadRequest, CommitConflict
from modelplaza.hub import cards, refs
from modelplaza.hub.content import Contents
from modelplaza.hub.gitobj import blob_oid, commit_oid, lfs_pointer_oid
from modelplaza.hub.trees import FileEntry, TreeEditor
from modelplaza.names import check_path
from modelplaza.storage import BlobStore

_SHA256 = re.compile(r"[0-9a-f]{64}")
README = "README.md"
GITATTRIBUTES = ".gitattributes"
LFS_PATTERNS = [
    "*.7z",
    "*.arrow",
    "*.bin",
    "*.bz2",
    "*.ckpt",
    "*.ftz",
    "*.gguf",
    "*.gz",
    "*.h5",
    "*.joblib",
    "*.lfs.*",
    "*.mlmodel",
    "*.model",
    "*.msgpack",
    "*.npy",
    "*.npz",
    "*.onnx",
    "*.ot",
    "*.parquet",
    "*.pb",
    "*.pickle",
    "*.pkl",
    "*.pt",
    "*.pth",
    "*.rar",
    "*.safetensors",
    "saved_model/**/*",
    "*.tar.*",
    "*.tar",
    "*.tflite",
    "*.tgz",
    "*.wasm",
    "*.xz",
    "*.zip",
    "*.zst",
    "*tfevents*",
    "*.lz4",
    "*.mds",
    "*.jpg",
    "*.jpeg",
    "*.png",
    "*.webp",
    "*.mp3",
    "*.wav",
    "*.flac",
    "*.ogg",
    "*.mp4",
]
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in LFS_PATTERNS
).encode()


@dataclass(frozen=True)
class PutFile:
    path: str
    entry: FileEntry


@dataclass(frozen=True)
class DeletePath:
    path: str
    folder: bool = False


Operation = PutFile | DeletePath


def regular_file(blobs: BlobStore, data: bytes) -> FileEntry:
    """Store inline content and describe it as a regular (non-LFS) file; the commit that
    uses it registers it in the database."""
    info = blobs.put_bytes(data)
    return FileEntry(info.sha256, info.size, blob_oid(data), lfs=False)


def stored_lfs_file(blobs: BlobStore, data: bytes) -> FileEntry:
    """Store content and describe it as an LFS file; as for ``regular_file``, the commit that
    uses it registers it."""
    info = blobs.put_bytes(data)
    return FileEntry(info.sha256, info.size, lfs_pointer_oid(info.sha256, info.size), lfs=True)


def check_oid(sha256: object) -> str:
    """An LFS oid straight from a request, once checked to be a sha256 in lowercase hex."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise BadRequest(f"Invalid LFS oid {sha256!r}: expected a sha256 in lowercase hex")
    return sha256


def lfs_file(session: Session, sha256: object, size: object) -> FileEntry:
    """A file whose content is held already, as an LFS file. The caller vouches that it may
    go into the repo: its bytes came with this request, or ``uploads.committable_lfs_file``
    allowed it (a request's oid alone proves nothing)."""
    sha256 = check_oid(sha256)
    blob = session.get(Blob, sha256)
    if blob is None:
        raise BadRequest(f"LFS object {sha256} was never uploaded: upload it before committing")
    if size is not None and size != blob.size:
        raise BadRequest(f"LFS object {sha256} has {blob.size} bytes, the commit says {size}")
    return FileEntry(sha256, blob.size, lfs_pointer_oid(sha256, blob.size), lfs=True)


def _apply(tree: TreeEditor, operations: Sequence[Operation], commit: str) -> None:
    for op in operations:
        if isinstance(op, PutFile):
            tree.put(check_path(op.path), op.entry)
        else:
            tree.delete(check_path(op.path.rstrip("/")), folder=op.folder, commit=commit)


def _write_commit(
    session: Session,
    repo: Repo,
    parent: Commit | None,
    tree: TreeEditor,
    title: str,
    message: str,
    author: str,
    when: datetime,
) -> Commit:
    root = tree.write()
    parent_id = parent.id if parent else None
    commit = Commit(
        id=commit_oid(str(repo.id), parent_id or "", title, message, author, when.isoformat(), root),
        repo_id=repo.id,
        parent_id=parent_id,
        title=title,
        message=message,
        author=author,
        created_at=when,
        tree_id=root,
        generation=parent.generation + 1 if parent else 1,
    )
    session.add(commit)
    session.flush()
    return commit


def default_gitattributes(blobs: BlobStore) -> FileEntry:
    """The ``.gitattributes`` every repo starts with, stored: before the write that creates one."""
    return regular_file(blobs, DEFAULT_GITATTRIBUTES)


def initial_commit(session: Session, repo: Repo, author: str, gitattributes: FileEntry) -> Commit:
    """The first commit of ``repo``: ``gitattributes`` (from ``default_gitattributes``) alone."""
    register_blob(session, gitattributes.sha256, gitattributes.size)
    tree = TreeEditor(session, None)
    tree.put(GITATTRIBUTES, gitattributes)
    commit = _write_commit(session, repo, None, tree, "initial commit", "", author, utcnow())
    session.add(Ref(repo_id=repo.id, kind="branch", name=refs.DEFAULT_BRANCH, commit_id=commit.id))
    return commit


def _readme_put(operations: Sequence[Operation]) -> PutFile | None:
    """The operation putting the README.md the commit leaves, if the last one touching it puts it."""
    touching = [op for op in operations if op.path.rstrip("/") == README]
    last = touching[-1] if touching else None
    return last if isinstance(last, PutFile) else None


def readme_card(
    session: Session, contents: Contents, operations: Sequence[Operation]
) -> cards.CardMetadata | None:
    """The card of the README.md that ``operations`` put (None if they put none), read and
    parsed before the write transaction: InvalidCardMetadata when its front matter is broken,
    so the commit is refused before any write lock is taken."""
    put = _readme_put(operations)
    if put is None:
        return None
    return cards.parse_card(contents.read_bytes(session, put.entry.sha256).decode("utf-8", "replace"))


def create_commit(
    session: Session,
    repo: Repo,
    branch: str,
    operations: Sequence[Operation],
    *,
    title: str,
    message: str = "",
    author: str,
    parent: str | None = None,
    card: cards.CardMetadata | None = None,
) -> Commit:
    """Commit ``operations`` on top of ``branch``. With ``parent``, refuse (CommitConflict) if the
    branch has moved on since. When the operations put README.md, ``card`` is its card, from
    ``readme_card`` (or ``cards.parse_card``): this only writes rows, it reads no file."""
    if card is None and _readme_put(operations) is not None:
        raise ValueError("The operations put README.md: pass its card, from readme_card")
    if not title.strip():
        raise BadRequest("A commit needs a summary")
    if "\x00" in title + message:
        raise BadRequest("A commit summary or description cannot contain NUL characters")
    # In a fixed order, before the branch lock: concurrent commits bringing the same new
    # contents in different orders would otherwise deadlock on each other's rows.
    added = {(op.entry.sha256, op.entry.size) for op in operations if isinstance(op, PutFile)}
    for sha256, size in sorted(added):
        register_blob(session, sha256, size)
    head_ref = session.scalar(
        select(Ref).where(Ref.repo_id == repo.id, Ref.kind == "branch", Ref.name == branch).with_for_update()
    )
    if head_ref is None:
        raise refs.no_such_branch(repo, branch)
    head = head_ref.commit_id
    if parent is not None and parent != head:
        raise CommitConflict(
            f"The branch {branch!r} moved on: its head is {head}, not the parent commit {parent}"
        )
    head_commit = session.get_one(Commit, head)
    tree = TreeEditor(session, head_commit.tree_id)
    _apply(tree, operations, head)
    if branch == refs.DEFAULT_BRANCH and tree.get(README) is None:
        _apply_card(repo, cards.CardMetadata())
    elif branch == refs.DEFAULT_BRANCH and card is not None:
        _apply_card(repo, card)
    commit = _write_commit(session, repo, head_commit, tree, title.strip(), message, author, utcnow())
    if not refs.move_branch(session, repo, branch, head, commit.id):
        raise CommitConflict(f"The branch {branch!r} moved on while committing; try again")
    repo.last_modified = commit.created_at
    return commit


# Enough prose for search; a card longer than this is still rendered whole from README.md.
CARD_TEXT_LIMIT = 64 * 1024


def _apply_card(repo: Repo, card: cards.CardMetadata) -> None:
    repo.card_data = card.card_data
    repo.tags = card.tags
    repo.pipeline_tag = card.pipeline_tag
    repo.library_name = card.library_name
    repo.card_text = card.text[:CARD_TEXT_LIMIT]


@dataclass(frozen=True)
class HistoryPage:
    commits: list[Commit]
    # How many commits the whole history holds, from the first commit to the one asked for.
    total: int


def history_page(session: Session, commit_id: str, page: int, size: int) -> HistoryPage:
    """Page ``page`` (from 0) of the history leading to ``commit_id``, newest first. Each
    commit's generation is its distance from the first commit plus one, so the page is a range
    of generations, walked from ``commit_id`` by primary key without reading older commits."""
    head = session.get_one(Commit, commit_id)
    top = head.generation - page * size
    bottom = top - size + 1
    if top < 1:
        return HistoryPage([], head.generation)
    older = aliased(Commit)
    chain = (
        select(Commit.id, Commit.parent_id, Commit.generation)
        .where(Commit.id == commit_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        select(older.id, older.parent_id, older.generation)
        .join(chain, older.id == chain.c.parent_id)
        .where(chain.c.generation > bottom)
    )
    shown = (
        select(Commit)
        .join(chain, Commit.id == chain.c.id)
        .where(chain.c.generation <= top)
        .order_by(chain.c.generation.desc())
    )
    return HistoryPage(list(session.scalars(shown)), head.generation)


def get_commits(session: Session, ids: list[str]) -> list[Commit]:
    found = {c.id: c for c in session.scalars(select(Commit).where(Commit.id.in_(ids)))}
    return [found[i] for i in ids]
