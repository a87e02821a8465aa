"""Branches, tags and commit history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from modelplaza.api import openapi
from modelplaza.api.hf import schemas, serialize
from modelplaza.api.hf.paths import RepoPath, api_repo
from modelplaza.api.receive import JsonObject, OptionalJsonObject
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.errors import BadRequest
from modelplaza.http.context import get_plaza, next_page
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.hub import commits, refs, repos

router = api_router(tags=["refs and history"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]
COMMITS_PAGE = 50


@router.get(
    "/api/{type_plural}/{namespace}/{name}/refs",
    response_model=schemas.GitRefs,
    response_model_exclude_unset=True,
)
def list_refs(request: Request, principal: Caller, target: Target, include_prs: bool = False) -> dict:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        found = refs.list_refs(session, repo)
    result = {
        "branches": [serialize.ref(r) for r in found if r.kind == "branch"],
        "converts": [],
        "tags": [serialize.ref(r) for r in found if r.kind == "tag"],
    }
    if include_prs:
        result["pullRequests"] = []
    return result


@router.get(
    "/api/{type_plural}/{namespace}/{name}/commits/{revision}", response_model=list[schemas.CommitEntry]
)
def list_commits(
    request: Request,
    principal: Caller,
    target: Target,
    revision: str,
    p: int = Query(0, ge=0),
    limit: int = Query(COMMITS_PAGE, ge=1, le=1000),
) -> Response:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        page = commits.history_page(session, refs.resolve(session, repo, param(revision)), p, limit)
    headers = next_page(request, p=p + 1) if page.total > (p + 1) * limit else {}
    return JSONResponse([serialize.commit(c) for c in page.commits], headers=headers)


def _body_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


@router.post(
    "/api/{type_plural}/{namespace}/{name}/branch/{branch}",
    response_model=schemas.Empty,
    openapi_extra=openapi.body(schemas.CreateBranchRequest),
)
def create_branch(
    request: Request, principal: Caller, target: Target, branch: str, body: OptionalJsonObject
) -> dict:
    with get_plaza(request).db.write() as session:
        repo = repos.get_writable(session, principal, *target.key)
        refs.create_branch(session, repo, param(branch), _body_str(body, "startingPoint"))
    return {}


@router.delete("/api/{type_plural}/{namespace}/{name}/branch/{branch}", response_model=schemas.Empty)
def delete_branch(request: Request, principal: Caller, target: Target, branch: str) -> dict:
    with get_plaza(request).db.write() as session:
        repo = repos.get_writable(session, principal, *target.key)
        refs.delete_ref(session, repo, "branch", param(branch))
    return {}


@router.post(
    "/api/{type_plural}/{namespace}/{name}/tag/{revision}",
    response_model=schemas.Empty,
    openapi_extra=openapi.body(schemas.CreateTagRequest),
)
def create_tag(request: Request, principal: Caller, target: Target, revision: str, body: JsonObject) -> dict:
    tag = _body_str(body, "tag")
    if not tag:
        raise BadRequest("The request needs the 'tag' name")
    with get_plaza(request).db.write() as session:
        repo = repos.get_writable(session, principal, *target.key)
        refs.create_tag(session, repo, tag, param(revision), _body_str(body, "message"))
    return {}


@router.delete("/api/{type_plural}/{namespace}/{name}/tag/{tag}", response_model=schemas.Empty)
def delete_tag(request: Request, principal: Caller, target: Target, tag: str) -> dict:
    with get_plaza(request).db.write() as session:
        repo = repos.get_writable(session, principal, *target.key)
        refs.delete_ref(session, repo, "tag", param(tag))
    return {}
