"""How pages are routed: every page route answers its errors with an HTML error page and
checks CSRF on unsafe methods before anything else; repo pages exist once for models (``/{namespace}/{name}``) and
once for datasets (``/datasets/{namespace}/{name}``), as on the Hub."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from modelplaza.db.models import Repo
from modelplaza.http.errors import RenderingRoute
from modelplaza.web.errors import page_error
from modelplaza.web.sessions import check_csrf

DATASETS_PREFIX = "/datasets"


class PageRoute(RenderingRoute):
    def render_error(self, request: Request, exc: Exception) -> Response:
        return page_error(request, exc)


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)])


def repo_type_of(request: Request) -> str:
    return "dataset" if request.url.path.startswith(DATASETS_PREFIX + "/") else "model"


def repo_route(router: APIRouter, suffix: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Register a view for ``/{namespace}/{name}{suffix}`` and its dataset twin; the view tells
    them apart with ``repo_type_of(request)``."""

    def register(view: Callable) -> Callable:
        for prefix in (DATASETS_PREFIX, ""):
            router.add_api_route(f"{prefix}/{{namespace}}/{{name}}{suffix}", view, methods=list(methods))
        return view

    return register


def repo_url(repo: Repo) -> str:
    prefix = DATASETS_PREFIX if repo.type == "dataset" else ""
    return f"{prefix}/{repo.namespace}/{repo.name}"
