"""What a commit changed: its tree compared with its parent's, directory by directory. A
directory with the same tree id on both sides is skipped unread, so a diff reads only what
changed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import Commit
from modelplaza.hub import trees
from modelplaza.hub.trees import Entry, FileEntry, StoredDir


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # "added" | "modified" | "deleted"
    old: FileEntry | None
    new: FileEntry | None


# A pair of directories to compare: (what asked, tree before, tree after, their path).
_Pair = tuple[str, str | None, str | None, str]


def _file_changes(path: str, old: Entry | None, new: Entry | None) -> list[Change]:
    if isinstance(old, FileEntry) and isinstance(new, FileEntry):
        return [Change(path, "modified", old, new)] if old.git_oid != new.git_oid else []
    changes = [Change(path, "deleted", old, None)] if isinstance(old, FileEntry) else []
    return changes + ([Change(path, "added", None, new)] if isinstance(new, FileEntry) else [])


def _subtree(entry: Entry | None) -> str | None:
    return entry.tree_id if isinstance(entry, StoredDir) else None


def _diffs(session: Session, roots: dict[str, tuple[str | None, str]]) -> dict[str, list[Change]]:
    """Each key's changes from its tree before to its tree after, by path. All the pairs go
    down together, one query per level of directories that differ."""
    changes: dict[str, list[Change]] = {key: [] for key in roots}
    pending: list[_Pair] = [(key, before, after, "") for key, (before, after) in roots.items()]
    read: dict[str, dict[str, Entry]] = {}
    while pending:
        wanted = {tree for _, *pair, _ in pending for tree in pair if tree and tree not in read}
        read.update(trees.load_dirs(session, wanted))
        deeper: list[_Pair] = []
        for key, before, after, prefix in pending:
            if before == after:
                continue
            old_entries = read[before] if before else {}
            new_entries = read[after] if after else {}
            for name in old_entries.keys() | new_entries.keys():
                old, new = old_entries.get(name), new_entries.get(name)
                if old == new:
                    continue
                if _subtree(old) or _subtree(new):
                    deeper.append((key, _subtree(old), _subtree(new), f"{prefix}{name}/"))
                changes[key] += _file_changes(prefix + name, old, new)
        pending = deeper
    return {key: sorted(found, key=lambda c: c.path) for key, found in changes.items()}


def changed_files(session: Session, commit_id: str, parent_id: str | None) -> list[Change]:
    """The files that differ between ``parent_id``'s tree (empty for a first commit) and
    ``commit_id``'s, by path."""
    parent_tree = trees.root_of(session, parent_id) if parent_id else None
    return _diffs(session, {commit_id: (parent_tree, trees.root_of(session, commit_id))})[commit_id]


def change_counts(session: Session, commit_ids: list[str]) -> dict[str, int]:
    """How many files each commit changed, reading only the directories that differ."""
    rows = session.execute(
        select(Commit.id, Commit.tree_id, Commit.parent_id).where(Commit.id.in_(commit_ids))
    )
    found = {commit: (tree, parent) for commit, tree, parent in rows}
    parents = [parent for _, parent in found.values() if parent]
    parent_trees = dict(
        session.execute(select(Commit.id, Commit.tree_id).where(Commit.id.in_(parents))).tuples().all()
    )
    roots = {
        commit: (parent_trees[parent] if parent else None, tree) for commit, (tree, parent) in found.items()
    }
    changes = _diffs(session, roots)
    return {commit: len(changes[commit]) for commit in commit_ids}
