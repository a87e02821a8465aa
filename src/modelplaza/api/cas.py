"""The Xet CAS service, under ``/cas`` (``casUrl`` in the token answers)."""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from modelplaza.api.receive import receive_blob
from modelplaza.api.routing import api_router
from modelplaza.auth.signing import InvalidSignature
from modelplaza.errors import InvalidCredentials, NotFound
from modelplaza.http.context import cas_url, get_plaza
from modelplaza.http.limits import BodyLimit, takes_body
from modelplaza.http.principals import bearer_token
from modelplaza.http.ranges import parse_range
from modelplaza.http.responses import delivery_response
from modelplaza.http.threads import in_thread
from modelplaza.hub import content
from modelplaza.xet import cas, reconstruction, tokens
from modelplaza.xet.xorb import MAX_XORB_SIZE

router = api_router("/cas", tags=["xet"])
log = logging.getLogger(__name__)
# The Xet protocol's own sizes: a body over them is refused before it is read.
XORB_BODY = BodyLimit("A xorb", lambda _: MAX_XORB_SIZE)
SHARD_BODY = BodyLimit("A shard", lambda _: cas.MAX_SHARD_SIZE)


def _grant(request: Request, *, write: bool) -> tokens.CasGrant:
    return tokens.check(get_plaza(request).signer, bearer_token(request), write=write)


@router.get("/v1/chunks/{prefix}/{chunk_hash}")
def dedup_query(request: Request, prefix: str, chunk_hash: str) -> Response:
    """Global deduplication: the xorb that already holds a chunk, as a shard; 404 if none."""
    _grant(request, write=False)
    if prefix not in ("default", "default-merkledb"):
        raise NotFound(f"Unknown CAS prefix {prefix!r}")
    with get_plaza(request).db.read() as session:
        shard = cas.dedup_shard(session, chunk_hash)
    if shard is None:
        raise NotFound(f"No stored chunk has the hash {chunk_hash}")
    return Response(shard, media_type="application/octet-stream")


@router.post("/v1/xorb-grants/default/{xorb_hash}")
def xorb_grant(request: Request, xorb_hash: str) -> Response:
    # Direct-to-object-store uploads are for a scale-out store; the client falls back on 404.
    _grant(request, write=True)
    raise NotFound("Upload xorbs to /v1/xorbs")


def _store_xorb(request: Request, upload: cas.XorbUpload) -> bool:
    upload.finish()  # Its fsync waits for the disk with no database lock held.
    with get_plaza(request).db.write() as session:
        return cas.store_xorb(session, upload)


@router.post("/v1/xorbs/default/{xorb_hash}")
@takes_body(XORB_BODY)
async def upload_xorb(request: Request, xorb_hash: str) -> JSONResponse:
    _grant(request, write=True)
    upload = await in_thread(cas.XorbUpload, get_plaza(request).xorbs, xorb_hash)
    try:
        await receive_blob(request, upload)
        inserted = await in_thread(_store_xorb, request, upload)
    finally:
        upload.abort()  # Also on cancellation, which no thread could be awaited for.
    return JSONResponse({"was_inserted": inserted})


def _register_shard(request: Request, grant: tokens.CasGrant, body: bytes) -> list[str]:
    plaza = get_plaza(request)
    # Rebuilding the files to check their sha256 takes long: no write lock is held meanwhile.
    with plaza.db.read() as session:
        files = cas.check_shard(session, plaza.xorbs, body)
    with plaza.db.write() as session:
        return cas.register_shard(session, files, grant.repo_id)


@router.post("/v1/shards")
@takes_body(SHARD_BODY)
async def upload_shard(request: Request) -> JSONResponse:
    grant = _grant(request, write=True)
    body = await request.body()
    await in_thread(_register_shard, request, grant, body)
    return JSONResponse({"result": 1})


@router.get("/v1/reconstructions/{file_hash}")
def get_reconstruction(request: Request, file_hash: str) -> JSONResponse:
    """Which chunks of which xorbs make a file (or the part a Range asks for), and signed
    links to fetch them: the download half of the Xet protocol."""
    grant = _grant(request, write=False)
    plaza = get_plaza(request)
    signer = plaza.signer

    def xorb_url(xorb: str) -> str:
        sig = signer.sign({"op": "xorb", "xorb": xorb}, tokens.TOKEN_TTL)
        return f"{cas_url(request)}/v1/xorbs/default/{xorb}?sig={sig}"

    with plaza.db.read() as session:
        xet_file = content.readable_xet_file(session, grant.repo_id, file_hash)
        byte_range = parse_range(request.headers.get("range"), xet_file.size) if xet_file.size else None
        answer = reconstruction.reconstruction(session, plaza.xorbs, xet_file, byte_range, xorb_url)
    log.info("xet reconstruction of %s (%s) for repo %d", xet_file.file_hash, byte_range, grant.repo_id)
    return JSONResponse(answer)


@router.get("/v1/xorbs/default/{xorb_hash}")
def get_xorb(request: Request, xorb_hash: str, sig: str = "") -> Response:
    """A xorb's serialized bytes (honouring Range), through a link a reconstruction signed."""
    plaza = get_plaza(request)
    try:
        payload = plaza.signer.verify(sig)
    except InvalidSignature:
        raise InvalidCredentials() from None
    if payload.get("op") != "xorb" or payload.get("xorb") != xorb_hash or not plaza.xorbs.exists(xorb_hash):
        raise NotFound(f"No xorb {xorb_hash} behind this link")
    size = plaza.xorbs.size(xorb_hash)
    byte_range = parse_range(request.headers.get("range"), size)
    start, end = byte_range or (0, size - 1)
    headers = {"Accept-Ranges": "bytes"}
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    delivery = plaza.xorbs.deliver(xorb_hash, start, end)
    return delivery_response(delivery, status_code=206 if byte_range else 200, headers=headers)
