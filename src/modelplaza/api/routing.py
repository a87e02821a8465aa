"""How the API is routed: every API route answers its errors as JSON with the headers the
Hugging Face client reads, whatever the caller accepts."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelplaza.api.openapi import ERRORS
from modelplaza.http.errors import RenderingRoute, json_error


class ApiRoute(RenderingRoute):
    def render_error(self, request: Request, exc: Exception) -> Response:
        return json_error(request, exc)


def api_router(prefix: str = "", *, tags: list[str | Enum] | None = None) -> APIRouter:
    """A router of API routes, grouped under ``tags`` in /api/docs, with the plaza's errors."""
    return APIRouter(prefix=prefix, route_class=ApiRoute, tags=tags, responses=ERRORS)
