"""Repo lifecycle and discovery: create, delete, settings, info, lists, whoami, card checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from modelplaza.api import openapi
from modelplaza.api.hf import schemas, serialize
from modelplaza.api.hf.paths import RepoPath, api_repo, repo_type_from_plural
from modelplaza.api.receive import JsonObject
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.errors import AuthenticationRequired, BadRequest
from modelplaza.http.context import get_plaza, next_page
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.hub import commits, refs, repos, trees
from modelplaza.hub.repos import RepoQuery
from modelplaza.names import check_name

router = api_router(tags=["repos"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]


def _visibility(body: dict) -> bool | None:
    if "visibility" in body and body["visibility"] is not None:
        if body["visibility"] not in ("public", "private"):
            raise BadRequest("visibility must be 'public' or 'private'")
        return body["visibility"] == "private"
    if "private" in body and body["private"] is not None:
        return bool(body["private"])
    return None


def _namespace_and_name(body: dict, principal: Principal) -> tuple[str, str]:
    name = body.get("name")
    if not isinstance(name, str):
        raise BadRequest("The request needs the repo 'name'")
    if body.get("organization"):
        return check_name(body["organization"], "namespace"), name
    if not isinstance(principal, Authenticated):
        raise AuthenticationRequired("Authentication required: send a write token")
    return principal.name, name


@router.post(
    "/api/repos/create",
    response_model=schemas.CreateRepoResponse,
    openapi_extra=openapi.body(schemas.CreateRepoRequest),
)
def create_repo(request: Request, principal: Caller, body: JsonObject) -> dict:
    plaza = get_plaza(request)
    repo_type = repos.check_repo_type(body.get("type"))
    namespace, name = _namespace_and_name(body, principal)
    gitattributes = commits.default_gitattributes(plaza.blobs)
    with plaza.db.write() as session:
        repo = repos.create_repo(
            session,
            principal,
            repo_type,
            namespace,
            name,
            private=bool(_visibility(body)),
            gitattributes=gitattributes,
        )
        url = serialize.repo_url(request, repo)
    return {"url": url, "name": repo.repo_id, "id": str(repo.id)}


@router.delete(
    "/api/repos/delete", response_model=schemas.Empty, openapi_extra=openapi.body(schemas.DeleteRepoRequest)
)
def delete_repo(request: Request, principal: Caller, body: JsonObject) -> dict:
    plaza = get_plaza(request)
    repo_type = repos.check_repo_type(body.get("type"))
    namespace, name = _namespace_and_name(body, principal)
    with plaza.db.write() as session:
        repo = repos.get_administrable(session, principal, repo_type, namespace, name)
        repos.delete_repo(session, repo)
    return {}


@router.put(
    "/api/{type_plural}/{namespace}/{name}/settings",
    response_model=schemas.Empty,
    openapi_extra=openapi.body(schemas.RepoSettingsRequest),
)
def update_settings(request: Request, principal: Caller, target: Target, body: JsonObject) -> dict:
    with get_plaza(request).db.write() as session:
        repo = repos.get_administrable(session, principal, *target.key)
        repos.update_settings(repo, private=_visibility(body))
    return {}


def _info(
    request: Request, principal: Principal, target: RepoPath, revision: str | None, blobs: bool
) -> dict:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        sha = refs.resolve(session, repo, revision)
        return serialize.repo_info(repo, sha, trees.snapshot(session, sha), blobs=blobs)


@router.get(
    "/api/{type_plural}/{namespace}/{name}",
    response_model=schemas.RepoInfo,
    response_model_exclude_unset=True,
)
def repo_info(request: Request, principal: Caller, target: Target, blobs: bool = False) -> dict:
    return _info(request, principal, target, None, blobs)


@router.get(
    "/api/{type_plural}/{namespace}/{name}/revision/{revision}",
    response_model=schemas.RepoInfo,
    response_model_exclude_unset=True,
)
def repo_info_at(
    request: Request, principal: Caller, target: Target, revision: str, blobs: bool = False
) -> dict:
    return _info(request, principal, target, param(revision), blobs)


PAGE_SIZE = 1000


@router.get("/api/{type_plural}", response_model=list[schemas.RepoInfo])
def list_repos(
    request: Request,
    principal: Caller,
    type_plural: str,
    search: str | None = None,
    author: str | None = None,
    filter: Annotated[list[str] | None, Query()] = None,
    pipeline_tag: str | None = None,
    sort: str | None = None,
    direction: int | None = None,
    limit: int | None = Query(None, ge=1),
    offset: int = Query(0, ge=0, le=2**62),  # The database's integers are 64-bit.
    full: bool = False,
    cardData: bool = False,
) -> Response:
    filters = tuple(filter or ()) + ((pipeline_tag,) if pipeline_tag else ())
    page = min(limit or PAGE_SIZE, PAGE_SIZE)
    query = RepoQuery(
        repo_type=repo_type_from_plural(type_plural),
        search=search,
        author=author,
        filters=filters,
        sort=sort,
        ascending=direction == 1,
        offset=offset,
        limit=page + 1,
    )
    with get_plaza(request).db.read() as session:
        found = repos.list_repos(session, principal, query, with_tags=False)
        tags = repos.tags_of(session, [repo.id for repo in found[:page]])
        items = []
        for repo in found[:page]:
            sha = refs.resolve(session, repo, None) if full else None
            snapshot = trees.snapshot(session, sha) if sha else None
            info = serialize.repo_info(repo, sha, snapshot, blobs=False, tags=tags[repo.id])
            if not (full or cardData):
                info.pop("cardData")
            items.append(info)
    headers = next_page(request, offset=offset + page) if len(found) > page else {}
    return JSONResponse(items, headers=headers)
