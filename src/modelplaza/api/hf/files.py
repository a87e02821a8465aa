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
from modelplaza.api.receive import JsonObject, check_text, ndjson_lines
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.db.models import Repo
from modelplaza.errors import BadRequest, EntryNotFound, NotImplementedYet, PayloadTooLarge
from modelplaza.http.context import get_plaza, next_page
from modelplaza.http.limits import BodyLimit, takes_body
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.http.threads import in_thread
from modelplaza.hub import commits, refs, repos, trees, uploads
from modelplaza.names import check_path
from modelplaza.plaza import Plaza

router = api_router(tags=["files"])
Caller = Annotated[Principal, Depends(get_principal)]
Target = Annotated[RepoPath, Depends(api_repo)]
TREE_PAGE = 1000


async def _requested_paths(request: Request) -> list[str]:
    form = await request.form()
    return [p for p in form.getlist("paths") if isinstance(p, str)]


def _writable(request: Request, principal: Caller, target: Target) -> RepoPath:
    """The repo of the URL, once the caller is known to be allowed to write to it."""
    with get_plaza(request).db.read() as session:
        repos.get_writable(session, principal, *target.key)
    return target


# The rights are checked before the body is read: dependencies run in the order of the
# parameters, so a handler names ``WritableTarget`` before its body.
WritableTarget = Annotated[RepoPath, Depends(_writable)]
RequestedPaths = Annotated[list[str], Depends(_requested_paths)]
COMMIT_BODY = BodyLimit("A commit", lambda s: s.max_commit_size, "max_commit_size")


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
def preupload(
    request: Request, principal: Caller, target: WritableTarget, revision: str, body: JsonObject
) -> dict:
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


def _path(key: str, value: object) -> str:
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str):
        raise BadRequest(f"The {key!r} operation needs a 'path'")
    return path


def _inline_file(value: dict, plaza: Plaza) -> commits.PutFile:
    path = _path("file", value)
    try:
        data = base64.b64decode(value.get("content", ""), validate=True)
    except (ValueError, TypeError):  # binascii.Error, or a non-ASCII string
        raise BadRequest(f"Invalid base64 content for {path!r}") from None
    if len(data) > plaza.settings.max_file_size:
        raise PayloadTooLarge(f"{path} is larger than the limit of {plaza.settings.max_file_size} bytes")
    return commits.PutFile(check_path(path), commits.regular_file(plaza.blobs, data))


def _operation(
    key: str, value: dict, session: Session, plaza: Plaza, principal: Principal, repo: Repo
) -> commits.Operation:
    path = _path(key, value)
    if key == "lfsFile":
        if value.get("algo", "sha256") != "sha256":
            raise BadRequest("Only sha256 LFS objects are supported")
        entry = uploads.committable_lfs_file(
            session, plaza.contents, principal, repo, value.get("oid"), value.get("size")
        )
        return commits.PutFile(check_path(path), entry)
    if key in ("deletedFile", "deletedFolder"):
        return commits.DeletePath(path, folder=key == "deletedFolder" or path.endswith("/"))
    raise BadRequest(f"Unknown commit operation {key!r}")


class _CommitBody:
    """A commit's NDJSON lines, taken as they arrive: the header first, then the operations.
    Inline files are decoded and stored line by line, so the body is never held whole; the
    other operations wait for the database session of the commit."""

    def __init__(self, plaza: Plaza) -> None:
        self.plaza = plaza
        self.header: dict | None = None
        self.operations: list[commits.Operation | tuple[str, dict]] = []

    def take(self, lines: list[bytes]) -> None:
        for line in lines:
            key, value = _parse_line(line)
            if self.header is None:
                self.header = _header(key, value)
            elif key == "file":
                self.operations.append(_inline_file(value, self.plaza))
            else:
                self.operations.append((key, value))

    def resolved(self, session: Session, principal: Principal, repo: Repo) -> list[commits.Operation]:
        """The operations, with uploaded files checked as ``principal``'s for ``repo``."""
        return [
            _operation(*op, session, self.plaza, principal, repo) if isinstance(op, tuple) else op
            for op in self.operations
        ]


def _header(key: str, header: object) -> dict:
    if key != "header" or not isinstance(header, dict):
        raise BadRequest("The first line of a commit must be its header")
    parent = header.get("parentCommit")
    if parent is not None and not isinstance(parent, str):
        raise BadRequest("The header's 'parentCommit' must be a commit id")
    return header


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
@takes_body(COMMIT_BODY)
async def commit(request: Request, principal: Caller, target: WritableTarget, revision: str) -> dict:
    branch = _base_revision(request, revision)
    # Decoding, hashing and storing the inline files takes a while: off the event loop, so the
    # plaza keeps answering other requests meanwhile.
    body = _CommitBody(get_plaza(request))
    async for lines in ndjson_lines(request):
        await in_thread(body.take, lines)
    if body.header is None:
        raise BadRequest("The commit body is empty")
    return await in_thread(_commit, request, principal, target, branch, body)


def _commit(request: Request, principal: Principal, target: RepoPath, branch: str, body: _CommitBody) -> dict:
    plaza = get_plaza(request)
    header = body.header or {}
    # Uploaded files are checked and the card parsed before the write lock is taken.
    with plaza.db.read() as session:
        repo = repos.get_writable(session, principal, *target.key)
        operations = body.resolved(session, principal, repo)
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
