"""The Xet CAS service, under ``/cas`` (``casUrl`` in the token answers)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from modelplaza.api.deps import bearer_token, get_plaza
from modelplaza.errors import NotFound
from modelplaza.xet import cas, tokens

router = APIRouter(prefix="/cas")


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


def _store_xorb(request: Request, xorb_hash: str, body: bytes) -> bool:
    plaza = get_plaza(request)
    with plaza.db.write() as session:
        return cas.store_xorb(session, plaza.xorbs, xorb_hash, body)


@router.post("/v1/xorbs/default/{xorb_hash}")
async def upload_xorb(request: Request, xorb_hash: str) -> JSONResponse:
    _grant(request, write=True)
    body = await request.body()
    inserted = await run_in_threadpool(_store_xorb, request, xorb_hash, body)
    return JSONResponse({"was_inserted": inserted})


def _register_shard(request: Request, body: bytes) -> list[str]:
    plaza = get_plaza(request)
    with plaza.db.write() as session:
        return cas.register_shard(session, plaza.xorbs, body)


@router.post("/v1/shards")
async def upload_shard(request: Request) -> JSONResponse:
    _grant(request, write=True)
    body = await request.body()
    await run_in_threadpool(_register_shard, request, body)
    return JSONResponse({"result": 1})
