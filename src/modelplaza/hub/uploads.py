"""Before a commit: deciding how each file travels (preupload), receiving large files (LFS),
and deciding which stored content a commit may name without sending its bytes."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from modelplaza.auth import permissions
from modelplaza.auth.principal import Principal
from modelplaza.db.blobs import record_received, register_blob
from modelplaza.db.models import Blob, ReceivedContent, Repo
from modelplaza.errors import BadRequest, PayloadTooLarge
from modelplaza.hub import commits, repos
from modelplaza.hub.commits import GITATTRIBUTES
from modelplaza.hub.content import Contents
from modelplaza.hub.trees import FileEntry, Snapshot, repo_holds
from modelplaza.storage import BlobInfo, BlobMismatch, BlobTooLarge, BlobWriter


@dataclass(frozen=True)
class PlannedFile:
    path: str
    size: int
    sample: bytes


def _lfs_patterns(session: Session, contents: Contents, snapshot: Snapshot) -> list[str]:
    entry = snapshot.files.get(GITATTRIBUTES)
    if entry is None:
        return []
    text = contents.read_bytes(session, entry.sha256).decode("utf-8", "replace")
    return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and line.split()]


def _matches(path: str, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatchcase(name, p) if "/" not in p else fnmatch.fnmatchcase(path, p.replace("**/", "*"))
        for p in patterns
    )


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start < len(sample) - 4
    return False


def _ignore_patterns(git_ignore: str | None) -> list[str]:
    lines = (line.strip() for line in (git_ignore or "").splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "!"))]


def plan_uploads(
    session: Session,
    contents: Contents,
    snapshot: Snapshot,
    files: list[PlannedFile],
    *,
    lfs_threshold: int,
    max_file_size: int,
    git_ignore: str | None,
) -> list[dict]:
    """For each file: ``lfs`` or ``regular`` upload, whether it is ignored, and the oid of the
    file now at that path (so unchanged files can be skipped)."""
    lfs_patterns = _lfs_patterns(session, contents, snapshot)
    ignored = _ignore_patterns(git_ignore)
    plan = []
    for f in files:
        if f.size > max_file_size:
            raise PayloadTooLarge(f"{f.path} has {f.size} bytes; the limit is {max_file_size}")
        lfs = f.size > lfs_threshold or _looks_binary(f.sample) or _matches(f.path, lfs_patterns)
        current = snapshot.files.get(f.path)
        oid = None
        if current is not None:
            oid = current.sha256 if current.lfs else current.git_oid
        plan.append(
            {
                "path": f.path,
                "uploadMode": "lfs" if lfs else "regular",
                "shouldIgnore": _matches(f.path, ignored),
                "oid": oid,
            }
        )
    return plan


def _held(session: Session, contents: Contents, sha256: str, size: int | None) -> bool:
    blob = session.get(Blob, sha256)
    return blob is not None and size in (None, blob.size) and contents.held(session, sha256)


def may_reuse(
    session: Session, contents: Contents, principal: Principal, repo: Repo, sha256: str, size: int | None
) -> bool:
    """Whether ``principal`` may put this content (of ``size`` bytes, if given) into ``repo``
    without sending its bytes: it is held, and ``permissions.may_reuse_content`` allows it.
    False alike for content held nowhere and for content held only where they may not read,
    so that the answer tells nothing about other repos."""
    if not _held(session, contents, sha256, size):
        return False
    received = session.get(ReceivedContent, (repo.id, sha256)) is not None

    def holders() -> Iterator[Repo]:  # Read only as far as the rule needs.
        if repo_holds(session, repo.id, sha256):
            yield repo
        yield from repos.readable_holders(session, principal, sha256)

    return permissions.may_reuse_content(principal, repo, received_by_target=received, holders=holders())


def committable_lfs_file(
    session: Session, contents: Contents, principal: Principal, repo: Repo, oid: object, size: object
) -> FileEntry:
    """The LFS file a commit to ``repo`` names by ``oid`` (straight from the request), if
    ``may_reuse`` allows it; BadRequest otherwise, in the same words whether the content is
    held nowhere or only where the committer may not read it."""
    sha256 = commits.check_oid(oid)
    if not may_reuse(session, contents, principal, repo, sha256, None):
        raise BadRequest(
            f"LFS object {sha256} was never uploaded to {repo.repo_id}: upload it before committing"
        )
    return commits.lfs_file(session, sha256, size)


def check_lfs_object(oid: object, size: object, max_file_size: int) -> tuple[str, int]:
    """The oid and size an LFS batch or verify request names, once checked; BadRequest says
    why they are unacceptable."""
    if not isinstance(oid, str) or len(oid) != 64 or any(c not in "0123456789abcdef" for c in oid):
        raise BadRequest("oid must be a lowercase hex sha256")
    if not isinstance(size, int) or size < 0:
        raise BadRequest("size must be a non-negative integer")
    if size > max_file_size:
        raise BadRequest(f"size {size} exceeds the limit of {max_file_size} bytes")
    return oid, size


def seal_upload(writer: BlobWriter, sha256: str, size: int, *, as_chunks: bool) -> BlobInfo:
    """Keep an uploaded object, whose bytes must hash to the sha256 and size it was announced
    with; only check them if the content is held ``as_chunks`` already (Xet), so that it is
    stored once (a store keeps one copy of a whole blob itself). It fsyncs: call it before the
    write transaction that registers it."""
    try:
        if as_chunks:
            return writer.check(expected_sha256=sha256, expected_size=size)
        return writer.finish(expected_sha256=sha256, expected_size=size)
    except BlobMismatch as exc:
        raise BadRequest(f"Upload refused: {exc}") from None
    except BlobTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from None


def register_upload(session: Session, repo_id: int, info: BlobInfo) -> None:
    """Record content ``seal_upload`` kept, sent to the repo ``repo_id``: its writers may
    now commit it (``may_reuse``)."""
    register_blob(session, info.sha256, info.size)
    record_received(session, repo_id, info.sha256)


def held_by(session: Session, contents: Contents, repo: Repo, sha256: str, size: int) -> bool:
    """Whether the content, of ``size`` bytes, is held and some commit of ``repo`` contains it
    (so the repo's readers may fetch it)."""
    return _held(session, contents, sha256, size) and repo_holds(session, repo.id, sha256)
