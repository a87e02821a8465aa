"""A commit's file tree: files are rows, directories are derived from their paths."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelplaza.db.models import TreeEntry
from modelplaza.hub.gitobj import tree_oid


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    git_oid: str
    lfs: bool


@dataclass(frozen=True)
class Item:
    """A file or directory as listings show it."""

    path: str
    is_dir: bool
    oid: str
    file: FileEntry | None = None


@dataclass
class Snapshot:
    """An immutable commit's tree with its directories worked out, ready to list."""

    files: dict[str, FileEntry]
    dir_oids: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, files: dict[str, FileEntry]) -> Snapshot:
        children: dict[str, set[str]] = defaultdict(set)
        for path in files:
            parts = path.split("/")
            for depth in range(len(parts)):
                parent = "/".join(parts[:depth])
                children[parent].add("/".join(parts[: depth + 1]))
        snapshot = cls(files, {}, {d: sorted(c) for d, c in children.items()})
        for directory in sorted(children, key=lambda d: -d.count("/") - (d != "")):
            snapshot.dir_oids[directory] = tree_oid(
                [(child.rsplit("/", 1)[-1], snapshot.oid_of(child)) for child in children[directory]]
            )
        return snapshot

    def oid_of(self, path: str) -> str:
        entry = self.files.get(path)
        return entry.git_oid if entry else self.dir_oids[path]

    def item(self, path: str) -> Item | None:
        entry = self.files.get(path)
        if entry is not None:
            return Item(path, False, entry.git_oid, entry)
        if path in self.dir_oids and path:
            return Item(path, True, self.dir_oids[path])
        return None

    def is_dir(self, path: str) -> bool:
        return path in self.children

    def list(self, path: str, recursive: bool) -> list[Item]:
        """Items under ``path`` (which must be a directory), directories included."""
        result: list[Item] = []
        pending = list(reversed(self.children.get(path, [])))
        while pending:
            child = pending.pop()
            result.append(self.item(child))
            if recursive and child in self.children:
                pending.extend(reversed(self.children[child]))
        return result


class _SnapshotCache:
    def __init__(self, capacity: int = 64) -> None:
        self._items: OrderedDict[str, Snapshot] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, session: Session, commit_id: str) -> Snapshot:
        with self._lock:
            if commit_id in self._items:
                self._items.move_to_end(commit_id)
                return self._items[commit_id]
        snapshot = Snapshot.build(load_files(session, commit_id))
        with self._lock:
            self._items[commit_id] = snapshot
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return snapshot


_cache = _SnapshotCache()


def load_files(session: Session, commit_id: str) -> dict[str, FileEntry]:
    rows = session.execute(
        select(TreeEntry.path, TreeEntry.sha256, TreeEntry.size, TreeEntry.git_oid, TreeEntry.lfs)
        .where(TreeEntry.commit_id == commit_id)
        .order_by(TreeEntry.path)
    )
    return {path: FileEntry(sha, size, oid, lfs) for path, sha, size, oid, lfs in rows}


def snapshot(session: Session, commit_id: str) -> Snapshot:
    return _cache.get(session, commit_id)


def get_file(session: Session, commit_id: str, path: str) -> FileEntry | None:
    row = session.execute(
        select(TreeEntry.sha256, TreeEntry.size, TreeEntry.git_oid, TreeEntry.lfs).where(
            TreeEntry.commit_id == commit_id, TreeEntry.path == path
        )
    ).first()
    return FileEntry(*row) if row else None
