"""Files that arrived whole in one request (the web upload form) and sit in the blob store
already, turned into commit operations. Whether each becomes an LFS or a regular file is the
API's preupload decision, so a file is stored the same way whichever way it was uploaded."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from modelplaza.hub import commits, uploads
from modelplaza.hub.content import Contents
from modelplaza.hub.trees import FileEntry, Snapshot
from modelplaza.storage import BlobStore

# As much of a file's start as the API's clients send to preupload, to tell text from binary.
SAMPLE_SIZE = 512


@dataclass(frozen=True)
class ReceivedFile:
    path: str
    sha256: str  # held in the blob store and registered
    size: int
    sample: bytes


def put_operations(
    session: Session,
    contents: Contents,
    blobs: BlobStore,
    snapshot: Snapshot,
    files: list[ReceivedFile],
    *,
    lfs_threshold: int,
    max_file_size: int,
) -> list[commits.PutFile]:
    """One PutFile per received file, against the tree (``snapshot``) it will be committed on:
    its ``.gitattributes`` decides which paths are LFS, as for the API."""
    planned = [uploads.PlannedFile(f.path, f.size, f.sample) for f in files]
    plan = uploads.plan_uploads(
        session,
        contents,
        snapshot,
        planned,
        lfs_threshold=lfs_threshold,
        max_file_size=max_file_size,
        git_ignore=None,
    )
    return [
        commits.PutFile(f.path, _entry(session, contents, blobs, f, lfs=decision["uploadMode"] == "lfs"))
        for f, decision in zip(files, plan, strict=True)
    ]


def _entry(
    session: Session, contents: Contents, blobs: BlobStore, file: ReceivedFile, *, lfs: bool
) -> FileEntry:
    if lfs:
        return commits.lfs_file(session, file.sha256, file.size)
    # A regular file's git oid hashes its size before its bytes, so it is only known once the
    # whole file is: read it back (it is small, below the LFS threshold).
    return commits.regular_file(blobs, contents.read_bytes(session, file.sha256))
