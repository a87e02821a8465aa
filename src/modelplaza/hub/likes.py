"""Likes: a user marks a repo they value; the repo keeps the count for sorting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.auth.permissions import Action, allowed, require
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.db.models import Account, Like, Repo
from modelplaza.db.session import rows_matched


def has_liked(session: Session, principal: Principal, repo: Repo) -> bool:
    if not isinstance(principal, Authenticated):
        return False
    return session.get(Like, (principal.user_id, repo.id)) is not None


def set_like(session: Session, principal: Principal, repo: Repo, liked: bool) -> int:
    """Like or unlike ``repo`` (idempotent either way); the repo's new like count."""
    user = require(principal, Action.LIKE_REPO, repo)
    current = session.get(Like, (user.user_id, repo.id))
    if liked and current is None:
        _add_like(session, user.user_id, repo.id)
    elif not liked and current is not None:
        _remove_like(session, user.user_id, repo.id)
    session.flush()
    session.refresh(repo)
    return repo.likes


def _add_like(session: Session, user_id: int, repo_id: int) -> None:
    try:
        with session.begin_nested():
            session.add(Like(user_id=user_id, repo_id=repo_id))
            session.flush()
            session.execute(update(Repo).where(Repo.id == repo_id).values(likes=Repo.likes + 1))
    except IntegrityError:
        pass  # The same user's concurrent request liked it first (PostgreSQL lets both look).


def _remove_like(session: Session, user_id: int, repo_id: int) -> None:
    # Counted only if this request removed it: a concurrent unlike may have been first.
    removed = delete(Like).where(Like.user_id == user_id, Like.repo_id == repo_id)
    if rows_matched(session, removed):
        session.execute(update(Repo).where(Repo.id == repo_id).values(likes=Repo.likes - 1))


def likes_of(session: Session, principal: Principal, user_id: int) -> list[tuple[datetime, Repo]]:
    """When a user liked which repo, newest first, without those ``principal`` may not see."""
    rows = session.execute(
        select(Like.created_at, Repo)
        .join(Like, Like.repo_id == Repo.id)
        .where(Like.user_id == user_id)
        .order_by(Like.created_at.desc())
    )
    return [(when, repo) for when, repo in rows if allowed(principal, Action.READ_REPO, repo)]


def liked_repos(session: Session, principal: Principal, user_id: int) -> list[Repo]:
    """The repos a user liked, newest like first, without those ``principal`` may not see."""
    return [repo for _, repo in likes_of(session, principal, user_id)]


def likers(session: Session, repo: Repo) -> list[Account]:
    """The users who like ``repo``, newest like first."""
    return list(
        session.scalars(
            select(Account)
            .join(Like, Like.user_id == Account.id)
            .where(Like.repo_id == repo.id)
            .order_by(Like.created_at.desc())
        )
    )
