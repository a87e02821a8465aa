"""``GET /api/health``: whether the plaza answers, and its version."""

from __future__ import annotations

from modelplaza import __version__
from modelplaza.api.routing import api_router

router = api_router()


@router.get("/api/health")
def health() -> dict:
    return {"status": "ok", "version": __version__}
