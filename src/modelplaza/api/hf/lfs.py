"""The Git LFS batch API (basic transfer) with upload links and the verify step, for
``HF_HUB_DISABLE_XET=1`` clients, git-lfs and older clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from modelplaza.api import openapi
from modelplaza.api.hf import schemas
from modelplaza.api.hf.paths import RepoPath
from modelplaza.api.receive import json_object, receive_blob
from modelplaza.api.routing import api_router
from modelplaza.auth.principal import Principal
from modelplaza.auth.signing import InvalidSignature
from modelplaza.db.models import Repo
from modelplaza.errors import BadRequest, NotFound
from modelplaza.http.context import URL_PREFIX, get_plaza, public_url
from modelplaza.http.limits import BodyLimit, BodyTooLarge, takes_body, tighten
from modelplaza.http.principals import get_principal
from modelplaza.http.rawpath import param
from modelplaza.http.responses import delivery_response
from modelplaza.http.threads import in_thread
from modelplaza.hub import repos, uploads
from modelplaza.plaza import Plaza
from modelplaza.storage import BlobWriter

router = api_router(tags=["Git LFS"])
Caller = Annotated[Principal, Depends(get_principal)]
LFS_JSON = "application/vnd.git-lfs+json"
BATCH_DOC: dict = {
    "response_model": schemas.LfsBatchResponse,
    "openapi_extra": openapi.body(schemas.LfsBatchRequest, LFS_JSON),
}
# What any link may upload; each link's own object is held to the size it was signed for.
OBJECT_BODY = BodyLimit("A file", lambda s: s.max_file_size, "max_file_size")
VERIFY_DOC: dict = {
    "response_model": schemas.LfsVerifyResponse,
    "openapi_extra": openapi.body(schemas.LfsObject, LFS_JSON),
}


def _git_repo(namespace: str, name_git: str, repo_type: str) -> RepoPath:
    name = param(name_git)
    if not name.endswith(".git"):
        raise NotFound("Not found")
    return RepoPath(repo_type, param(namespace), name[: -len(".git")])


def _batch(request: Request, principal: Principal, target: RepoPath, body: dict) -> Response:
    plaza = get_plaza(request)
    operation = body.get("operation")
    objects = body.get("objects")
    if operation not in ("upload", "download") or not isinstance(objects, list):
        raise BadRequest("An LFS batch needs an 'operation' (upload or download) and 'objects'")
    with plaza.db.read() as session:
        if operation == "upload":
            repo = repos.get_writable(session, principal, *target.key)
        else:
            repo = repos.get_readable(session, principal, *target.key)
        answers = [_object_answer(request, session, principal, repo, operation, o) for o in objects]
    return JSONResponse({"transfer": "basic", "objects": answers}, media_type=LFS_JSON)


def _object_answer(
    request: Request, session: Session, principal: Principal, repo: Repo, operation: str, obj: object
) -> dict:
    plaza = get_plaza(request)
    oid, size = (obj.get("oid"), obj.get("size")) if isinstance(obj, dict) else (None, None)
    try:
        oid, size = uploads.check_lfs_object(oid, size, plaza.settings.max_file_size)
    except BadRequest as problem:
        return {
            "oid": str(oid),
            "size": size if isinstance(size, int) else 0,
            "error": {"code": 422, "message": problem.message},
        }
    base = public_url(request)
    ttl = plaza.settings.upload_link_ttl
    if operation == "download":
        if not uploads.held_by(session, plaza.contents, repo, oid, size):
            return {"oid": oid, "size": size, "error": {"code": 404, "message": "Object not found"}}
        link = plaza.signer.sign({"oid": oid, "repo": repo.id, "op": "download"}, ttl)
        return {
            "oid": oid,
            "size": size,
            "actions": {"download": {"href": f"{base}/api/lfs/objects/{link}"}},
        }
    if uploads.may_reuse(session, plaza.contents, principal, repo, oid, size):
        return {"oid": oid, "size": size}  # Theirs to use already: the client skips the upload.
    # Anything else is asked for, held elsewhere or not: the answer tells nothing, and bytes
    # that are held already are checked and dropped on arrival.
    link = plaza.signer.sign({"oid": oid, "size": size, "op": "upload", "repo": repo.id}, ttl)
    verify = f"{base}/{URL_PREFIX[repo.type]}{repo.repo_id}.git/info/lfs/verify"
    return {
        "oid": oid,
        "size": size,
        "authenticated": True,
        "actions": {
            "upload": {"href": f"{base}/api/lfs/objects/{link}", "expires_in": ttl},
            "verify": {"href": verify, "expires_in": ttl},
        },
    }


def _check(request: Request, principal: Principal, target: RepoPath, *, write: bool) -> None:
    """Before the body is read: refuse a caller who may not see the repo (or not write to it)."""
    check = repos.get_writable if write else repos.get_readable
    with get_plaza(request).db.read() as session:
        check(session, principal, *target.key)


async def _batch_request(request: Request, principal: Principal, target: RepoPath) -> Response:
    # Whether the batch uploads (and needs write rights) is in its body: reading it needs the
    # right to see the repo first.
    await in_thread(_check, request, principal, target, write=False)
    return await in_thread(_batch, request, principal, target, await json_object(request))


@router.post("/{namespace}/{name_git}/info/lfs/objects/batch", **BATCH_DOC)
async def batch_model(request: Request, principal: Caller, namespace: str, name_git: str) -> Response:
    return await _batch_request(request, principal, _git_repo(namespace, name_git, "model"))


@router.post("/datasets/{namespace}/{name_git}/info/lfs/objects/batch", **BATCH_DOC)
async def batch_dataset(request: Request, principal: Caller, namespace: str, name_git: str) -> Response:
    return await _batch_request(request, principal, _git_repo(namespace, name_git, "dataset"))


def _link(request: Request, link: str, op: str) -> dict:
    try:
        payload = get_plaza(request).signer.verify(link)
    except InvalidSignature as exc:
        raise NotFound(f"Unknown or expired link: {exc}") from None
    if payload.get("op") != op or not isinstance(payload.get("repo"), int):
        raise NotFound("Unknown or expired link")
    return payload


@router.put("/api/lfs/objects/{link}")
@takes_body(OBJECT_BODY)
async def upload_object(request: Request, link: str) -> Response:
    """Receives one object's bytes. The link itself is the credential (clients send none here)."""
    payload = _link(request, link, "upload")
    tighten(request, payload["size"], f"Upload refused: more than the announced {payload['size']} bytes")
    plaza = get_plaza(request)
    writer = await in_thread(plaza.blobs.writer, max_size=payload["size"])
    try:
        await receive_blob(request, writer)
    except BodyTooLarge:  # more than the link's size: refused as the byte too many arrives
        await in_thread(writer.abort)
        raise
    except ClientDisconnect:
        await in_thread(writer.abort)
        return Response(status_code=400)
    except BaseException:
        writer.abort()  # Also on cancellation, which no thread could be awaited for.
        raise
    await in_thread(_seal, plaza, writer, payload)
    return Response(status_code=200)


def _seal(plaza: Plaza, writer: BlobWriter, payload: dict) -> None:
    with plaza.db.read() as session:
        as_chunks = plaza.contents.held_as_chunks_only(session, payload["oid"])
    # It fsyncs: before the write.
    info = uploads.seal_upload(writer, payload["oid"], payload["size"], as_chunks=as_chunks)
    with plaza.db.write() as session:
        uploads.register_upload(session, payload["repo"], info)


@router.get("/api/lfs/objects/{link}")
def download_object(request: Request, link: str) -> Response:
    payload = _link(request, link, "download")
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        opened = plaza.contents.open(session, payload["oid"])
    return delivery_response(opened.delivery, headers={"Content-Length": str(opened.size)})


def _verify(request: Request, principal: Principal, target: RepoPath, body: dict) -> Response:
    plaza = get_plaza(request)
    try:
        oid, size = uploads.check_lfs_object(body.get("oid"), body.get("size"), plaza.settings.max_file_size)
    except BadRequest as problem:
        raise BadRequest(f"Cannot verify the object: {problem.message}") from None
    with plaza.db.read() as session:
        repo = repos.get_writable(session, principal, *target.key)
        if not uploads.may_reuse(session, plaza.contents, principal, repo, oid, size):
            raise NotFound(f"Object {oid} with size {size} was not received")
    return JSONResponse({"message": "ok"}, media_type=LFS_JSON)


async def _verify_request(request: Request, principal: Principal, target: RepoPath) -> Response:
    await in_thread(_check, request, principal, target, write=True)
    return await in_thread(_verify, request, principal, target, await json_object(request))


@router.post("/{namespace}/{name_git}/info/lfs/verify", **VERIFY_DOC)
async def verify_model(request: Request, principal: Caller, namespace: str, name_git: str) -> Response:
    return await _verify_request(request, principal, _git_repo(namespace, name_git, "model"))


@router.post("/datasets/{namespace}/{name_git}/info/lfs/verify", **VERIFY_DOC)
async def verify_dataset(request: Request, principal: Caller, namespace: str, name_git: str) -> Response:
    return await _verify_request(request, principal, _git_repo(namespace, name_git, "dataset"))
