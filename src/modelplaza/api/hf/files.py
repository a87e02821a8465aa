"""Uploading (preupload, commit) and browsing (tree, paths-info) a repo's files."""

from __future__ import annotations

import base64
import json
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from modelplaza.api import openapi
from modelplaza.api.hf import schemas, serialize
from modelplaza.api.hf.paths import RepoPath, api_repo
from modelplaza.api.receive import JsonObject, check_text
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.errors import BadRequest, EntryNotFound, NotImplementedYet, PayloadTooLarge
from modelplaza.http.context import get_plaza, next_page
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.http.threads import in_thread
from modelplaza.hub import commits, refs, repos, trees, uploads
from modelplaza.names import check_path

router = api_router(tags=["files"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]
TREE_PAGE = 1000


async def _requested_paths(request: Request) -> list[str]:
    form = await request.form()
    return [p for p in form.getlist("paths") if isinstance(p, str)]


# Read on the event loop before the handler runs, as the JSON bodies (``receive.JsonObject``).
RequestedPaths = Annotated[list[str], Depends(_requested_paths)]


def _planned(entry: object) -> uploads.PlannedFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise BadRequest("Each file needs a 'path'")
    size = entry.get("size", 0)
    if not isinstance(size, int) or size < 0:
        raise BadRequest(f"Invalid size for {entry['path']!r}")
    try:
        sample = base64.b64decode(entry.get("sample") or "", validate=True)
    except (ValueError, TypeError):  # binascii.Error, or a non-ASCII string
        raise BadRequest(f"Invalid base64 sample for {entry['path']!r}") from None
    return uploads.PlannedFile(check_path(entry["path"]), size, sample)


@router.post(
    "/api/{type_plural}/{namespace}/{name}/preupload/{revision}",
    response_model=schemas.PreuploadResponse,
    openapi_extra=openapi.body(schemas.PreuploadRequest),
)
def preupload(request: Request, principal: Caller, target: Target, revision: str, body: JsonObject) -> dict:
    if not isinstance(body.get("files"), list):
        raise BadRequest("The request needs a 'files' list")
    planned = [_planned(f) for f in body["files"]]
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        repo = repos.get_writable(session, principal, *target.key)
        snapshot = trees.snapshot(session, refs.resolve(session, repo, _base_revision(request, revision)))
        plan = uploads.plan_uploads(
            session,
            plaza.contents,
            snapshot,
            planned,
            lfs_threshold=plaza.settings.lfs_threshold,
            max_file_size=plaza.settings.max_file_size,
            git_ignore=_git_ignore(body),
        )
    return {"files": plan}


def _git_ignore(body: dict) -> str | None:
    rules = body.get("gitIgnore")
    if rules is not None and not isinstance(rules, str):
        raise BadRequest("'gitIgnore' must be the text of a .gitignore file")
    return rules


def _base_revision(request: Request, revision: str) -> str:
    if request.query_params.get("create_pr") in ("1", "true", "True"):
        raise NotImplementedYet("Pull requests are not supported yet; commit to a branch instead")
    return param(revision)


def _parse_line(line: bytes) -> tuple[str, dict]:
    try:
        item = json.loads(line)
        key, value = item["key"], item["value"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise BadRequest('Each line of the commit body must be {"key": ..., "value": ...}') from None
    check_text(item)
    return key, value


def _operation(key: str, value: dict, session, plaza) -> commits.Operation:
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str):
        raise BadRequest(f"The {key!r} operation needs a 'path'")
    if key == "file":
        try:
            data = base64.b64decode(value.get("content", ""), validate=True)
        except (ValueError, TypeError):  # binascii.Error, or a non-ASCII string
            raise BadRequest(f"Invalid base64 content for {path!r}") from None
        if len(data) > plaza.settings.max_file_size:
            raise PayloadTooLarge(f"{path} is larger than the limit of {plaza.settings.max_file_size} bytes")
        return commits.PutFile(check_path(path), commits.regular_file(plaza.blobs, data))
    if key == "lfsFile":
        if value.get("algo", "sha256") != "sha256":
            raise BadRequest("Only sha256 LFS objects are supported")
        return commits.PutFile(
            check_path(path), commits.lfs_file(session, value.get("oid"), value.get("size"))
        )
    if key in ("deletedFile", "deletedFolder"):
        return commits.DeletePath(path, folder=key == "deletedFolder" or path.endswith("/"))
    raise BadRequest(f"Unknown commit operation {key!r}")


@router.post(
    "/api/{type_plural}/{namespace}/{name}/commit/{revision}",
    response_model=schemas.CommitResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": schemas.COMMIT_BODY_DOC,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def commit(request: Request, principal: Caller, target: Target, revision: str) -> dict:
    branch = _base_revision(request, revision)
    lines = [line for line in (await request.body()).splitlines() if line.strip()]
    if not lines:
        raise BadRequest("The commit body is empty")
    key, header = _parse_line(lines[0])
    if key != "header" or not isinstance(header, dict):
        raise BadRequest("The first line of a commit must be its header")
    parent = header.get("parentCommit")
    if parent is not None and not isinstance(parent, str):
        raise BadRequest("The header's 'parentCommit' must be a commit id")
    # Decoding, hashing and storing the files takes a while: off the event loop, so the plaza
    # keeps answering other requests meanwhile.
    return await in_thread(_commit, request, principal, target, branch, header, lines[1:])


def _commit(
    request: Request, principal: Principal, target: RepoPath, branch: str, header: dict, lines: list[bytes]
) -> dict:
    plaza = get_plaza(request)
    # Inline files are stored, uploaded ones checked and the card parsed before the write lock
    # is taken.
    with plaza.db.read() as session:
        repos.get_writable(session, principal, *target.key)
        operations = [_operation(*_parse_line(line), session, plaza) for line in lines]
        card = commits.readme_card(session, plaza.contents, operations)
    with plaza.db.write() as session:
        repo, author = repos.get_writable_by(session, principal, *target.key)
        created = commits.create_commit(
            session,
            repo,
            branch,
            operations,
            title=str(header.get("summary") or ""),
            message=str(header.get("description") or ""),
            author=author.name,
            parent=header.get("parentCommit"),
            card=card,
        )
        url = serialize.repo_url(request, repo)
    return {
        "commitUrl": f"{url}/commit/{created.id}",
        "commitOid": created.id,
        "pullRequestUrl": None,
    }


def _xet_hashes(request: Request, session: Session, items: list[trees.Item]) -> dict[str, str]:
    """The Xet hashes of the listed files, when Xet downloads are advertised at all."""
    plaza = get_plaza(request)
    if not plaza.settings.xet_downloads:
        return {}
    return plaza.contents.xet_hashes(session, {i.file.sha256 for i in items if i.file and i.file.lfs})


def _page_link(request: Request, sha: str, revision: str, cursor: int) -> dict[str, str]:
    path = request.url.path.replace(f"/tree/{revision}", f"/tree/{sha}", 1)
    return next_page(request, path, cursor=cursor)


@router.get("/api/{type_plural}/{namespace}/{name}/tree/{revision}", response_model=list[schemas.TreeEntry])
@router.get(
    "/api/{type_plural}/{namespace}/{name}/tree/{revision}/{path:path}",
    response_model=list[schemas.TreeEntry],
)
def tree(
    request: Request,
    principal: Caller,
    target: Target,
    revision: str,
    path: str = "",
    recursive: bool = False,
    cursor: int = 0,
) -> Response:
    path = param(path).strip("/")
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        sha = refs.resolve(session, repo, param(revision))
        snapshot = trees.snapshot(session, sha)
        if path and not snapshot.is_dir(path):
            kind = "a file, not a folder" if path in snapshot.files else "not in the repo"
            raise EntryNotFound(f"{path!r} is {kind} at {sha}", sha)
        items = snapshot.list(path, recursive)
        page = items[cursor : cursor + TREE_PAGE]
        xet_hashes = _xet_hashes(request, session, page)
    headers = (
        _page_link(request, sha, revision, cursor + TREE_PAGE) if len(items) > cursor + TREE_PAGE else {}
    )
    return JSONResponse([serialize.tree_item(i, xet_hashes) for i in page], headers=headers)


@router.post(
    "/api/{type_plural}/{namespace}/{name}/paths-info/{revision}",
    response_model=list[schemas.TreeEntry],
    response_model_exclude_unset=True,
    openapi_extra=openapi.body(schemas.PathsInfoForm, "application/x-www-form-urlencoded"),
)
def paths_info(
    request: Request, principal: Caller, target: Target, revision: str, paths: RequestedPaths
) -> list:
    with get_plaza(request).db.read() as session:
        repo = repos.get_readable(session, principal, *target.key)
        snapshot = trees.snapshot(session, refs.resolve(session, repo, param(revision)))
        found = [i for i in (snapshot.item(p.strip("/")) for p in dict.fromkeys(paths)) if i is not None]
        xet_hashes = _xet_hashes(request, session, found)
    return [serialize.tree_item(i, xet_hashes) for i in found]
