"""What a commit changed: its tree compared with its parent's, file by file."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from modelplaza.db.models import Commit, TreeEntry
from modelplaza.hub.trees import FileEntry, load_files


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # "added" | "modified" | "deleted"
    old: FileEntry | None
    new: FileEntry | None


def changed_files(session: Session, commit_id: str, parent_id: str | None) -> list[Change]:
    """The files that differ between ``parent_id``'s tree (empty for a first commit) and
    ``commit_id``'s, by path."""
    before = load_files(session, parent_id) if parent_id else {}
    after = load_files(session, commit_id)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old is None:
            changes.append(Change(path, "added", None, new))
        elif new is None:
            changes.append(Change(path, "deleted", old, None))
        elif old.git_oid != new.git_oid:
            changes.append(Change(path, "modified", old, new))
    return changes


def change_counts(session: Session, commit_ids: list[str]) -> dict[str, int]:
    """How many files each commit changed, counted in the database (two queries for a whole
    page of history) rather than by loading every tree."""
    child, parent = aliased(TreeEntry), aliased(TreeEntry)
    # Added or modified: a path of the commit whose exact entry is not in the parent's tree.
    touched = (
        select(child.commit_id, func.count())
        .join(Commit, Commit.id == child.commit_id)
        .outerjoin(
            parent,
            and_(
                parent.commit_id == Commit.parent_id,
                parent.path == child.path,
                parent.git_oid == child.git_oid,
            ),
        )
        .where(child.commit_id.in_(commit_ids), parent.path.is_(None))
        .group_by(child.commit_id)
    )
    # Deleted: a path of the parent's tree that the commit no longer has.
    deleted = (
        select(Commit.id, func.count())
        .join(parent, parent.commit_id == Commit.parent_id)
        .outerjoin(child, and_(child.commit_id == Commit.id, child.path == parent.path))
        .where(Commit.id.in_(commit_ids), child.path.is_(None))
        .group_by(Commit.id)
    )
    counts = dict.fromkeys(commit_ids, 0)
    for statement in (touched, deleted):
        for commit_id, count in session.execute(statement):
            counts[commit_id] += count
    return counts
