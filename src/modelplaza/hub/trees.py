"""Commit trees, stored as git stores them: one row per directory entry, each directory
content-addressed by its entries, so a commit writes only the directories it changed and
shares the rest with its parent. Everything that reads a tree goes through this module."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import CTE, Select, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modelplaza.db.models import Commit, Tree, TreeItem
from modelplaza.errors import BadRequest, EntryNotFound
from modelplaza.hub.gitobj import tree_oid

# Rows asked for in one IN (...) list: well under every backend's parameter limit.
_BATCH = 500


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    git_oid: str
    lfs: bool


@dataclass(frozen=True)
class StoredDir:
    """A directory as its parent's entry names it: the stored tree and its listing oid."""

    tree_id: str
    oid: str


Entry = FileEntry | StoredDir


def tree_id(entries: dict[str, Entry]) -> str:
    """A directory's id: a hash of its sorted entries, every field of them included."""
    digest = hashlib.sha1(b"plaza-tree\0")
    for name in sorted(entries):
        entry = entries[name]
        if isinstance(entry, StoredDir):
            line = f"d\0{name}\0{entry.tree_id}\n"
        else:
            line = f"f\0{name}\0{entry.git_oid}\0{entry.sha256}\0{entry.size}\0{int(entry.lfs)}\n"
        digest.update(line.encode())
    return digest.hexdigest()


def listing_oid(entries: dict[str, Entry]) -> str:
    return tree_oid([(name, _oid(entry)) for name, entry in entries.items()])


def _oid(entry: Entry) -> str:
    return entry.oid if isinstance(entry, StoredDir) else entry.git_oid


def _batches(ids: Iterable[str]) -> Iterator[list[str]]:
    ids = list(ids)
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def _entry(row) -> Entry:
    if row.subtree_id is not None:
        return StoredDir(row.subtree_id, row.oid)
    return FileEntry(row.sha256, row.size, row.oid, row.lfs)


_ITEM_COLUMNS = (
    TreeItem.tree_id,
    TreeItem.name,
    TreeItem.oid,
    TreeItem.subtree_id,
    TreeItem.sha256,
    TreeItem.size,
    TreeItem.lfs,
)


def load_dirs(session: Session, ids: Iterable[str]) -> dict[str, dict[str, Entry]]:
    """The entries of each stored directory in ``ids``, in as few queries as the batch allows."""
    found: dict[str, dict[str, Entry]] = {i: {} for i in ids}
    for batch in _batches(found):
        for row in session.execute(select(*_ITEM_COLUMNS).where(TreeItem.tree_id.in_(batch))):
            found[row.tree_id][row.name] = _entry(row)
    return found


def root_of(session: Session, commit_id: str) -> str:
    return session.execute(select(Commit.tree_id).where(Commit.id == commit_id)).scalar_one()


def files_of_tree(session: Session, root: str) -> dict[str, FileEntry]:
    """Every file under a stored directory by path, reading one level of directories per query."""
    files: dict[str, FileEntry] = {}
    pending: dict[str, list[str]] = {root: [""]}
    while pending:
        dirs = load_dirs(session, pending)
        deeper: dict[str, list[str]] = defaultdict(list)
        for stored, prefixes in pending.items():
            for name, entry in dirs[stored].items():
                for prefix in prefixes:
                    path = prefix + name
                    if isinstance(entry, StoredDir):
                        deeper[entry.tree_id].append(path + "/")
                    else:
                        files[path] = entry
        pending = deeper
    return dict(sorted(files.items()))


def load_files(session: Session, commit_id: str) -> dict[str, FileEntry]:
    return files_of_tree(session, root_of(session, commit_id))


def get_file(session: Session, commit_id: str, path: str) -> FileEntry | None:
    """The file at ``path``, walking down one directory per query; None for a folder or nothing."""
    *folders, name = path.split("/")
    current = root_of(session, commit_id)
    for folder in folders:
        current = session.scalar(
            select(TreeItem.subtree_id).where(TreeItem.tree_id == current, TreeItem.name == folder)
        )
        if current is None:
            return None
    row = session.execute(
        select(*_ITEM_COLUMNS).where(TreeItem.tree_id == current, TreeItem.name == name)
    ).first()
    entry = _entry(row) if row else None
    return entry if isinstance(entry, FileEntry) else None


@dataclass(frozen=True)
class Item:
    """A file or directory as listings show it."""

    path: str
    oid: str
    file: FileEntry | None = None  # None for a directory

    @property
    def is_dir(self) -> bool:
        return self.file is None


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
        if path in self.files or (path and path in self.dir_oids):
            return self._listed(path)
        return None

    def _listed(self, path: str) -> Item:
        """The item at ``path``, a file or a directory other than the root."""
        entry = self.files.get(path)
        if entry is None:
            return Item(path, self.dir_oids[path])
        return Item(path, entry.git_oid, entry)

    def is_dir(self, path: str) -> bool:
        return path in self.children

    def list(self, path: str, recursive: bool) -> list[Item]:
        """Items under ``path`` (which must be a directory), directories included."""
        result: list[Item] = []
        pending = list(reversed(self.children.get(path, [])))
        while pending:
            child = pending.pop()
            result.append(self._listed(child))
            if recursive and child in self.children:
                pending.extend(reversed(self.children[child]))
        return result


class _SnapshotCache:
    """Snapshots by root tree: commits that share a tree (a new branch, a revert) share it."""

    def __init__(self, capacity: int = 64) -> None:
        self._items: OrderedDict[str, Snapshot] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, session: Session, root: str) -> Snapshot:
        with self._lock:
            if root in self._items:
                self._items.move_to_end(root)
                return self._items[root]
        snapshot = Snapshot.build(files_of_tree(session, root))
        with self._lock:
            self._items[root] = snapshot
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return snapshot


_cache = _SnapshotCache()


def snapshot(session: Session, commit_id: str) -> Snapshot:
    return _cache.get(session, root_of(session, commit_id))


class _Dir:
    """A directory being edited: loaded from its stored tree when first touched."""

    def __init__(self, stored: StoredDir | None) -> None:
        # None once loaded (a new directory is loaded from the start): edited from then on,
        # its id is worked out again when it is written.
        self.stored = stored
        self._entries: dict[str, FileEntry | _Dir] = {}

    def loaded(self, session: Session) -> dict[str, FileEntry | _Dir]:
        if self.stored is not None:
            tree = self.stored.tree_id
            self._entries = {
                name: _Dir(entry) if isinstance(entry, StoredDir) else entry
                for name, entry in load_dirs(session, [tree])[tree].items()
            }
            self.stored = None
        return self._entries


class TreeEditor:
    """A new tree: a stored one with files put and paths deleted. Only the directories on the
    edited paths are read and, by ``write``, stored again; the others keep their ids."""

    def __init__(self, session: Session, root: str | None) -> None:
        self._session = session
        self._root = _Dir(StoredDir(root, "") if root else None)

    def _walk(self, folders: list[str], path: str, *, create: bool) -> _Dir | None:
        """The folder at ``folders``: made on the way with ``create``, else None if missing."""
        current = self._root
        for depth, folder in enumerate(folders):
            entries = current.loaded(self._session)
            child = entries.get(folder)
            if isinstance(child, FileEntry):
                raise BadRequest(f"Cannot add {path!r}: {'/'.join(folders[: depth + 1])!r} is a file")
            if child is None:
                if not create:
                    return None
                child = entries[folder] = _Dir(None)
            current = child
        return current

    def get(self, path: str) -> FileEntry | None:
        *folders, name = path.split("/")
        folder = self._walk(folders, path, create=False)
        entry = folder.loaded(self._session).get(name) if folder else None
        return entry if isinstance(entry, FileEntry) else None

    def put(self, path: str, entry: FileEntry) -> None:
        *folders, name = path.split("/")
        folder = self._walk(folders, path, create=True) or self._root  # never None when creating
        entries = folder.loaded(self._session)
        if isinstance(entries.get(name), _Dir):
            raise BadRequest(f"Cannot add {path!r}: it is a folder")
        entries[name] = entry

    def delete(self, path: str, *, folder: bool, commit: str) -> None:
        """Delete a file, or a folder and all it holds (``folder`` deletes folders only)."""
        *folders, name = path.split("/")
        chain = [self._root]
        for part in folders:
            child = chain[-1].loaded(self._session).get(part)
            if not isinstance(child, _Dir):
                raise EntryNotFound(f"Cannot delete {path!r}: no such file or folder", commit)
            chain.append(child)
        entries = chain[-1].loaded(self._session)
        if name not in entries or (folder and isinstance(entries[name], FileEntry)):
            raise EntryNotFound(f"Cannot delete {path!r}: no such file or folder", commit)
        del entries[name]
        # A folder left empty goes too, as it would in git.
        for parent, child, part in zip(
            reversed(chain[:-1]), reversed(chain[1:]), reversed(folders), strict=True
        ):
            if child.loaded(self._session):
                break
            del parent.loaded(self._session)[part]

    def write(self) -> str:
        """Store the edited directories that are new and return the root's tree id."""
        new: dict[str, tuple[str, dict[str, Entry]]] = {}
        root = self._store(self._root, new)
        self._insert_missing(new)
        return root.tree_id

    def _store(self, directory: _Dir, new: dict[str, tuple[str, dict[str, Entry]]]) -> StoredDir:
        if directory.stored is not None:
            return directory.stored
        entries: dict[str, Entry] = {
            name: self._store(child, new) if isinstance(child, _Dir) else child
            for name, child in directory.loaded(self._session).items()
        }
        stored = StoredDir(tree_id(entries), listing_oid(entries))
        new[stored.tree_id] = (stored.oid, entries)
        return stored

    def _insert_missing(self, new: dict[str, tuple[str, dict[str, Entry]]]) -> None:
        existing: set[str] = set()
        for batch in _batches(new):
            existing.update(self._session.scalars(select(Tree.id).where(Tree.id.in_(batch))))
        missing = {i: value for i, value in new.items() if i not in existing}
        insert_trees(self._session, missing)


def insert_trees(session: Session, trees: dict[str, tuple[str, dict[str, Entry]]]) -> None:
    """Store directories (tree id -> (listing oid, entries)). A concurrent commit may store the
    same directory first; its rows are then the same rows, so they are left as they are."""
    if not trees:
        return
    _insert_new(session, Tree, [{"id": i, "oid": oid} for i, (oid, _) in trees.items()])
    rows = [_item_row(i, name, entry) for i, (_, entries) in trees.items() for name, entry in entries.items()]
    _insert_new(session, TreeItem, rows)


def _insert_new(session: Session, model: type[Tree] | type[TreeItem], rows: list[dict]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(dialect_insert(model).on_conflict_do_nothing(), rows)


def _item_row(tree: str, name: str, entry: Entry) -> dict:
    if isinstance(entry, StoredDir):
        return dict(tree_id=tree, name=name, oid=entry.oid, subtree_id=entry.tree_id, lfs=False)
    return dict(
        tree_id=tree, name=name, oid=entry.git_oid, sha256=entry.sha256, size=entry.size, lfs=entry.lfs
    )


def _holding_trees(sha256: str) -> CTE:
    """The directories holding a file with this content, then the directories holding those,
    up to the commits' roots."""
    holders = select(TreeItem.tree_id).where(TreeItem.sha256 == sha256).cte("holders", recursive=True)
    return holders.union(select(TreeItem.tree_id).join(holders, TreeItem.subtree_id == holders.c.tree_id))


def repo_holds(session: Session, repo_id: int, sha256: str) -> bool:
    """Whether some commit of the repo has a file with this content."""
    holders = _holding_trees(sha256)
    found = session.scalar(
        select(Commit.id)
        .where(Commit.repo_id == repo_id, Commit.tree_id.in_(select(holders.c.tree_id)))
        .limit(1)
    )
    return found is not None


def repos_holding(sha256: str) -> Select[int]:
    """The ids of the repos some commit of which has a file with this content, as a query to
    narrow further (by who may read them)."""
    holders = _holding_trees(sha256)
    return select(Commit.repo_id).where(Commit.tree_id.in_(select(holders.c.tree_id)))


def reachable(session: Session, roots: Iterable[str]) -> tuple[set[str], set[str]]:
    """The directories under the given root trees and the sha256 of every file they hold."""
    seen: set[str] = set()
    contents: set[str] = set()
    pending = set(roots)
    while pending:
        seen |= pending
        deeper: set[str] = set()
        for batch in _batches(pending):
            rows = select(TreeItem.subtree_id, TreeItem.sha256).where(TreeItem.tree_id.in_(batch))
            for subtree, sha256 in session.execute(rows):
                if subtree is not None:
                    deeper.add(subtree)
                elif sha256 is not None:
                    contents.add(sha256)
        deeper -= seen
        pending = deeper
    return seen, contents


def delete_trees(session: Session, tree_ids: Iterable[str]) -> None:
    """Remove stored directories that nothing reachable names (their entries first)."""
    batches = list(_batches(tree_ids))
    for batch in batches:
        session.execute(delete(TreeItem).where(TreeItem.tree_id.in_(batch)))
    for batch in batches:
        session.execute(delete(Tree).where(Tree.id.in_(batch)))
