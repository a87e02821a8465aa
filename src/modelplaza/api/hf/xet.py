"""Xet access tokens: what the Hugging Face client asks for before talking to the CAS."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from modelplaza.api.hf import schemas
from modelplaza.api.hf.paths import RepoPath, api_repo
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.http.context import cas_url, get_plaza
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.hub import refs, repos
from modelplaza.xet import tokens

router = api_router(tags=["xet"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]


def _token_response(request: Request, repo_id: int, *, write: bool) -> JSONResponse:
    token, expires = tokens.issue(get_plaza(request).signer, repo_id, write=write)
    url = cas_url(request)
    return JSONResponse(
        {"accessToken": token, "exp": expires, "casUrl": url},
        headers={
            "X-Xet-Cas-Url": url,
            "X-Xet-Access-Token": token,
            "X-Xet-Token-Expiration": str(expires),
        },
    )


@router.get(
    "/api/{type_plural}/{namespace}/{name}/xet-write-token/{revision}", response_model=schemas.XetToken
)
def write_token(request: Request, principal: Caller, target: Target, revision: str) -> JSONResponse:
    with get_plaza(request).db.read() as session:
        repo = repos.get_writable(session, principal, *target.key)
        if request.query_params.get("create_pr") not in ("1", "true"):
            refs.resolve(session, repo, param(revision))
    return _token_response(request, repo.id, write=True)


@router.get(
    "/api/{type_plural}/{namespace}/{name}/xet-read-token/{revision}", response_model=schemas.XetToken
)
def read_token(request: Request, principal: Caller, target: Target, revision: str) -> JSONResponse:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        refs.resolve(session, repo, param(revision))
    return _token_response(request, repo.id, write=False)
