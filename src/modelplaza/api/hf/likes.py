"""Likes from the clients: like and unlike a repo, a user's likes, a repo's likers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelplaza.api.hf.paths import RepoPath, api_repo
from modelplaza.api.routing import api_router
from modelplaza.auth.accounts import get_user
from modelplaza.auth.principal import Principal
from modelplaza.http.context import get_plaza
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.http.shapes import iso
from modelplaza.hub import likes, repos

router = api_router(tags=["likes"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]


def _set_like(request: Request, principal: Principal, target: RepoPath, liked: bool) -> dict:
    with get_plaza(request).db.write() as session:
        repo = repos.get_readable(session, principal, *target.key)
        likes.set_like(session, principal, repo, liked)
    return {}


@router.post("/api/{type_plural}/{namespace}/{name}/like")
def like(request: Request, principal: Caller, target: Target) -> dict:
    return _set_like(request, principal, target, True)


@router.delete("/api/{type_plural}/{namespace}/{name}/like")
def unlike(request: Request, principal: Caller, target: Target) -> dict:
    return _set_like(request, principal, target, False)


@router.get("/api/{type_plural}/{namespace}/{name}/likers")
def list_likers(request: Request, principal: Caller, target: Target) -> list[dict]:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        found = likes.likers(session, repo)
    return [{"user": a.name, "fullname": a.fullname, "avatarUrl": None} for a in found]


@router.get("/api/users/{user}/likes")
def list_user_likes(request: Request, principal: Caller, user: str) -> list[dict]:
    with get_plaza(request).db.read() as session:
        account = get_user(session, param(user))
        found = likes.likes_of(session, principal, account.id)
    return [{"createdAt": iso(when), "repo": {"name": r.repo_id, "type": r.type}} for when, r in found]
