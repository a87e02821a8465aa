"""Garbage collection: free the commits, trees, files, xorbs and blobs that nothing reachable uses.

Reachable means: a commit some branch or tag of an existing repo leads to, the directories of
its tree and the files they hold. Trees are shared between commits and repos, so a tree is
freed only when no reachable commit's tree leads to it. Anything created
within the grace period is kept whatever it looks like, because an upload in progress has
stored its bytes but not yet committed them; so is content sent to a repo within it, even
content stored long before (the records of content sent earlier are dropped). Stored objects no row records (left by a commit that failed, or by a crash before
``remove_files``) are found by listing the stores, and uploads never finished by asking the
stores to sweep them; both before the write transaction, which reads and deletes rows only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modelplaza.db.models import Blob, Commit, ReceivedContent, Ref, Tree, XetFile, Xorb
from modelplaza.hub import trees
from modelplaza.storage import BlobStore, StoredObject


@dataclass
class Report:
    commits: int = 0
    trees: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    xet_files: int = 0
    xorbs: int = 0
    xorb_bytes: int = 0
    temp_files: int = 0
    unrecorded: int = 0
    dead_blobs: list[str] = field(default_factory=list)
    dead_xorbs: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return self.blob_bytes + self.xorb_bytes


def _reachable_commits(session: Session) -> set[str]:
    parents = dict(session.execute(select(Commit.id, Commit.parent_id)).tuples().all())
    reachable: set[str] = set()
    for head in session.scalars(select(Ref.commit_id)):
        current: str | None = head
        while current is not None and current not in reachable:
            reachable.add(current)
            current = parents.get(current)
    return reachable


@dataclass(frozen=True)
class Listing:
    """What the stores held, listed before the write transaction (so no lock is held while a
    large store is walked), and how many stale uploads were swept meanwhile."""

    blobs: list[StoredObject]
    xorbs: list[StoredObject]
    temp_files: int


def list_stores(blobs: BlobStore, xorbs: BlobStore, cutoff: datetime, *, dry_run: bool) -> Listing:
    """List both stores, and sweep the uploads begun before ``cutoff`` and never finished
    (``dry_run`` only counts them). Objects stored after this are not listed, so are kept."""
    temp_files = sum(store.sweep_incomplete(cutoff, dry_run=dry_run) for store in (blobs, xorbs))
    return Listing(list(blobs.objects()), list(xorbs.objects()), temp_files)


def collect(session: Session, listing: Listing, *, cutoff: datetime, dry_run: bool) -> Report:
    """Delete the rows nothing reachable uses and that are older than ``cutoff``; the report
    names the stored objects for ``remove_files`` to delete once this has committed."""
    report = Report()
    reachable = _reachable_commits(session)
    commit_trees = dict(session.execute(select(Commit.id, Commit.tree_id)).tuples().all())
    dead_commits = [c for c in commit_trees if c not in reachable]
    report.commits = len(dead_commits)
    live_trees, live_blobs = trees.reachable(session, {commit_trees[c] for c in reachable})
    # Content sent to a repo lately may be committed soon: kept like an upload in progress.
    live_blobs |= set(
        session.scalars(select(ReceivedContent.sha256).where(ReceivedContent.received_at >= cutoff))
    )
    dead_trees = [t for t in session.scalars(select(Tree.id)) if t not in live_trees]
    report.trees = len(dead_trees)
    dead_files: list[XetFile] = []
    live_files: list[XetFile] = []
    for xet_file in session.scalars(select(XetFile)):
        dead = xet_file.sha256 not in live_blobs and xet_file.created_at < cutoff
        (dead_files if dead else live_files).append(xet_file)
    live_xorbs = {term[0] for f in live_files for term in f.terms}
    dead_xorbs = [
        x for x in session.scalars(select(Xorb)) if x.hash not in live_xorbs and x.created_at < cutoff
    ]
    dead_blobs = [
        b for b in session.scalars(select(Blob)) if b.sha256 not in live_blobs and b.created_at < cutoff
    ]
    report.xet_files = len(dead_files)
    report.xorbs, report.xorb_bytes = len(dead_xorbs), sum(x.size for x in dead_xorbs)
    # A file uploaded through Xet has a Blob row but no whole copy: its bytes are the xorbs'.
    report.blobs = len(dead_blobs)
    held = {o.key for o in listing.blobs}
    report.blob_bytes = sum(b.size for b in dead_blobs if b.sha256 in held)
    report.dead_blobs = [b.sha256 for b in dead_blobs]
    report.dead_xorbs = [x.hash for x in dead_xorbs]
    _add_unrecorded(report, session, listing, cutoff)
    report.temp_files = listing.temp_files
    if dry_run:
        return report
    # Older records let nothing be committed that their repos' writers could not send again.
    session.execute(delete(ReceivedContent).where(ReceivedContent.received_at < cutoff))
    if dead_commits:
        session.execute(delete(Commit).where(Commit.id.in_(dead_commits)))
    trees.delete_trees(session, dead_trees)
    for item in dead_files:
        session.delete(item)
    for xorb in dead_xorbs:
        session.delete(xorb)
    for blob in dead_blobs:
        session.delete(blob)
    return report


def remove_files(report: Report, blobs: BlobStore, xorbs: BlobStore) -> None:
    """Delete the stored bytes of what ``collect`` removed, once its transaction committed:
    a crash in between leaves a file to collect next time, never a row without its file."""
    for key in report.dead_xorbs:
        xorbs.delete(key)
    for key in report.dead_blobs:
        blobs.delete(key)


def _add_unrecorded(report: Report, session: Session, listing: Listing, cutoff: datetime) -> None:
    """Count the listed objects no row records among what ``remove_files`` deletes."""
    lost_blobs = _unrecorded(listing.blobs, set(session.scalars(select(Blob.sha256))), cutoff)
    lost_xorbs = _unrecorded(listing.xorbs, set(session.scalars(select(Xorb.hash))), cutoff)
    report.unrecorded = len(lost_blobs) + len(lost_xorbs)
    report.blob_bytes += sum(o.size for o in lost_blobs)
    report.xorb_bytes += sum(o.size for o in lost_xorbs)
    report.dead_blobs += [o.key for o in lost_blobs]
    report.dead_xorbs += [o.key for o in lost_xorbs]


def _unrecorded(listed: list[StoredObject], recorded: set[str], cutoff: datetime) -> list[StoredObject]:
    return [o for o in listed if o.key not in recorded and o.modified < cutoff]
