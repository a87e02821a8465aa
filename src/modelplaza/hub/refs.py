"""Branches and tags, and turning a revision (branch, tag, full or short sha) into a commit."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.db.models import Commit, Ref, Repo
from modelplaza.db.session import rows_matched
from modelplaza.errors import AlreadyExists, BadRequest, Forbidden, RevisionNotFound
from modelplaza.names import check_ref_name

_HEX = re.compile(r"[0-9a-f]{5,40}")
_FULL_ID = 40
DEFAULT_BRANCH = "main"


def _strip_prefix(revision: str) -> tuple[str | None, str]:
    for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
        if revision.startswith(prefix):
            return kind, revision[len(prefix) :]
    return None, revision


def get_ref(session: Session, repo: Repo, kind: str, name: str) -> Ref | None:
    return session.get(Ref, (repo.id, kind, name))


def resolve(session: Session, repo: Repo, revision: str | None) -> str:
    """The commit id a revision names; RevisionNotFound when it names nothing (or is ambiguous).
    A full commit id of the repo names that commit whatever refs are called (as in git): a
    pinned revision never moves. Then branches, tags, and last a short commit id."""
    revision = revision or DEFAULT_BRANCH
    kind, name = _strip_prefix(revision)
    is_hex = kind is None and _HEX.fullmatch(revision) is not None
    if is_hex and len(revision) == _FULL_ID:
        commit = session.scalar(select(Commit.id).where(Commit.id == revision, Commit.repo_id == repo.id))
        if commit is not None:
            return commit
    for ref_kind in (kind,) if kind else ("branch", "tag"):
        ref = get_ref(session, repo, ref_kind, name)
        if ref is not None:
            return ref.commit_id
    if is_hex and len(revision) < _FULL_ID:
        matches = session.scalars(
            select(Commit.id).where(Commit.repo_id == repo.id, Commit.id.like(f"{revision}%")).limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RevisionNotFound(f"Revision {revision!r} is ambiguous in {repo.repo_id}")
    raise RevisionNotFound(f"Invalid rev id: {revision!r} is not a branch, tag or commit of {repo.repo_id}")


def branch_head(session: Session, repo: Repo, branch: str) -> str:
    ref = get_ref(session, repo, "branch", branch)
    if ref is None:
        raise no_such_branch(repo, branch)
    return ref.commit_id


def no_such_branch(repo: Repo, branch: str) -> RevisionNotFound:
    return RevisionNotFound(f"Branch {branch!r} does not exist in {repo.repo_id}")


def move_branch(session: Session, repo: Repo, branch: str, expected: str, new: str) -> bool:
    """Compare-and-swap the branch head; False when someone else moved it first."""
    swap = (
        update(Ref)
        .where(
            Ref.repo_id == repo.id,
            Ref.kind == "branch",
            Ref.name == branch,
            Ref.commit_id == expected,
        )
        .values(commit_id=new)
    )
    return rows_matched(session, swap) == 1


def create_ref(
    session: Session, repo: Repo, kind: str, name: str, commit_id: str, message: str | None = None
) -> Ref:
    check_ref_name(name)
    exists = AlreadyExists(f"The {kind} {name!r} already exists in {repo.repo_id}")
    if get_ref(session, repo, kind, name) is not None:
        raise exists
    ref = Ref(repo_id=repo.id, kind=kind, name=name, commit_id=commit_id, message=message)
    try:
        with session.begin_nested():
            session.add(ref)
    except IntegrityError:
        # Created by a concurrent request since the lookup (PostgreSQL lets both look first).
        if get_ref(session, repo, kind, name) is None:
            raise
        raise exists from None
    return ref


def create_branch(session: Session, repo: Repo, name: str, starting_point: str | None) -> Ref:
    if name.startswith("refs/pr/"):
        raise BadRequest("Branch names cannot start with 'refs/pr/'")
    _, name = _strip_prefix(name)
    return create_ref(session, repo, "branch", name, resolve(session, repo, starting_point))


def create_tag(session: Session, repo: Repo, tag: str, revision: str, message: str | None) -> Ref:
    _, tag = _strip_prefix(tag)
    if message and "\x00" in message:
        raise BadRequest("A tag message cannot contain NUL characters")
    return create_ref(session, repo, "tag", tag, resolve(session, repo, revision), message)


def delete_ref(session: Session, repo: Repo, kind: str, name: str) -> None:
    _, name = _strip_prefix(name)
    if kind == "branch" and name == DEFAULT_BRANCH:
        raise Forbidden(f"The default branch {DEFAULT_BRANCH!r} cannot be deleted")
    # One statement, so that of two concurrent deletes one succeeds and the other finds nothing.
    removed = delete(Ref).where(Ref.repo_id == repo.id, Ref.kind == kind, Ref.name == name)
    if not rows_matched(session, removed):
        raise RevisionNotFound(f"No {kind} named {name!r} in {repo.repo_id}")


def list_refs(session: Session, repo: Repo) -> list[Ref]:
    return list(session.scalars(select(Ref).where(Ref.repo_id == repo.id).order_by(Ref.name)))
