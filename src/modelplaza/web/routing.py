"""How pages are routed: every page route answers domain errors with an HTML error page and
checks CSRF on unsafe methods; repo pages exist once for models (``/{namespace}/{name}``) and
once for datasets (``/datasets/{namespace}/{name}``), as on the Hub."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from modelplaza.db.models import Repo
from modelplaza.errors import PlazaError
from modelplaza.http.threads import in_thread
from modelplaza.web.errors import error_page
from modelplaza.web.sessions import check_csrf

DATASETS_PREFIX = "/datasets"


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                await check_csrf(request)
                return await handler(request)
            except PlazaError as exc:
                return await in_thread(error_page, request, exc.status, exc.message)

        return page_handler


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)


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
