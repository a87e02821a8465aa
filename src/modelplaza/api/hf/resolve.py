"""File downloads: ``HEAD``/``GET /{repo}/resolve/{revision}/{path}`` with Range support."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from modelplaza.api.hf.paths import RepoPath, api_repo
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.db.models import Repo
from modelplaza.errors import EntryNotFound
from modelplaza.http.context import get_plaza, public_url
from modelplaza.http.principals import get_principal
from modelplaza.http.ranges import parse_range
from modelplaza.http.rawpath import param
from modelplaza.http.responses import delivery_response
from modelplaza.hub import refs, repos, trees
from modelplaza.hub.trees import FileEntry

router = api_router(tags=["downloads"])
Caller = Annotated[Principal, Depends(get_principal)]


def _metadata_headers(entry: FileEntry, sha: str) -> dict[str, str]:
    headers = {
        "X-Repo-Commit": sha,
        "Accept-Ranges": "bytes",
        "ETag": f'"{entry.sha256 if entry.lfs else entry.git_oid}"',
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if entry.lfs:
        headers["X-Linked-Etag"] = f'"{entry.sha256}"'
        headers["X-Linked-Size"] = str(entry.size)
    return headers


def _xet_headers(request: Request, repo: Repo, sha: str, xet_hash: str) -> dict[str, str]:
    """Switch the Hugging Face client to Xet: the file's hash, and where to get a CAS read token."""
    token_url = f"{public_url(request)}/api/{repo.type}s/{repo.repo_id}/xet-read-token/{sha}"
    return {"X-Xet-Hash": xet_hash, "Link": f'<{token_url}>; rel="xet-auth"'}


def _serve(request: Request, principal: Principal, target: RepoPath, revision: str, path: str) -> Response:
    plaza = get_plaza(request)
    path = param(path)
    xet_hash = None
    with plaza.db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        sha = refs.resolve(session, repo, param(revision))
        entry = trees.get_file(session, sha, path)
        if entry is not None and entry.lfs and plaza.settings.xet_downloads:
            xet_hash = plaza.contents.xet_hashes(session, {entry.sha256}).get(entry.sha256)
    if entry is None:
        raise EntryNotFound(f"{path!r} does not exist at {sha} of {repo.repo_id}", sha)
    headers = _metadata_headers(entry, sha)
    if xet_hash:
        headers.update(_xet_headers(request, repo, sha, xet_hash))
    byte_range = parse_range(request.headers.get("range"), entry.size)
    start, end = byte_range or (0, entry.size - 1)
    headers["Content-Length"] = str(max(end - start + 1, 0))
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    if start == 0:
        with plaza.db.write() as session:
            repos.count_download(session, repo.id)
    if not entry.size:
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    with plaza.db.read() as session:
        opened = plaza.contents.open(session, entry.sha256, start, end)
    return delivery_response(opened.delivery, status_code=status, headers=headers)


def _file_repo(namespace: str, name: str, repo_type: str) -> RepoPath:
    return RepoPath(repo_type, param(namespace), param(name))


@router.api_route("/{namespace}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
def resolve_model(
    request: Request, principal: Caller, namespace: str, name: str, revision: str, path: str
) -> Response:
    return _serve(request, principal, _file_repo(namespace, name, "model"), revision, path)


@router.api_route("/datasets/{namespace}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
def resolve_dataset(
    request: Request, principal: Caller, namespace: str, name: str, revision: str, path: str
) -> Response:
    return _serve(request, principal, _file_repo(namespace, name, "dataset"), revision, path)


@router.api_route(
    "/api/{type_plural}/{namespace}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"]
)
def resolve_api(
    request: Request,
    principal: Caller,
    target: Annotated[RepoPath, Depends(api_repo)],
    revision: str,
    path: str,
) -> Response:
    return _serve(request, principal, target, revision, path)
