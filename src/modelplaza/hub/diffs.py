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


class _Dirs:
    """Stored directories read once per diff (or page of diffs): neighbouring commits share most."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[str, dict[str, Entry]] = {}

    def __call__(self, directory: StoredDir | None) -> dict[str, Entry]:
        if directory is None:
            return {}
        if directory.tree_id not in self._read:
            self._read.update(trees.load_dirs(self._session, [directory.tree_id]))
        return self._read[directory.tree_id]


def _compare(dirs: _Dirs, before: StoredDir | None, after: StoredDir | None, prefix: str) -> list[Change]:
    old_entries, new_entries = dirs(before), dirs(after)
    changes: list[Change] = []
    for name in old_entries.keys() | new_entries.keys():
        old, new = old_entries.get(name), new_entries.get(name)
        if old == new:
            continue
        path = prefix + name
        old_dir = old if isinstance(old, StoredDir) else None
        new_dir = new if isinstance(new, StoredDir) else None
        if old_dir or new_dir:
            changes += _compare(dirs, old_dir, new_dir, path + "/")
        if isinstance(old, FileEntry) and isinstance(new, FileEntry):
            if old.git_oid != new.git_oid:
                changes.append(Change(path, "modified", old, new))
            continue
        if isinstance(old, FileEntry):
            changes.append(Change(path, "deleted", old, None))
        if isinstance(new, FileEntry):
            changes.append(Change(path, "added", None, new))
    return changes


def _root(tree: str | None) -> StoredDir | None:
    return StoredDir(tree, "") if tree else None


def _diff(dirs: _Dirs, tree: str, parent_tree: str | None) -> list[Change]:
    return sorted(_compare(dirs, _root(parent_tree), _root(tree), ""), key=lambda c: c.path)


def changed_files(session: Session, commit_id: str, parent_id: str | None) -> list[Change]:
    """The files that differ between ``parent_id``'s tree (empty for a first commit) and
    ``commit_id``'s, by path."""
    parent_tree = trees.root_of(session, parent_id) if parent_id else None
    return _diff(_Dirs(session), trees.root_of(session, commit_id), parent_tree)


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
    dirs = _Dirs(session)
    return {
        commit: len(_diff(dirs, found[commit][0], parent_trees.get(found[commit][1])))
        for commit in commit_ids
    }
