"""The composition root: the ASGI app of one plaza, with the API and the pages side by side.

The API's routes come first and the pages' last, as the pages' patterns are the widest. Each
route answers its own errors (JSON for the API, HTML for pages); an address with no route at
all gets a page when the client asks for HTML, and JSON otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from modelplaza import __version__
from modelplaza.api import app as api_app
from modelplaza.api import openapi
from modelplaza.http import errors
from modelplaza.http.headers import SecurityHeadersMiddleware
from modelplaza.http.rawpath import RawPathMiddleware
from modelplaza.http.threads import in_thread
from modelplaza.plaza import Plaza
from modelplaza.web import app as web_app
from modelplaza.web.errors import page_error


def create_app(plaza: Plaza) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await in_thread(plaza.db.dispose)  # the pooled connections close with the server

    app = FastAPI(
        title="ModelPlaza",
        version=__version__,
        docs_url=None,  # api/openapi.py serves the docs page from the vendored Swagger UI
        redoc_url=None,
        openapi_url=openapi.OPENAPI_URL,
        lifespan=lifespan,
    )
    app.state.plaza = plaza
    errors.install(app, fallback=_routeless_error)
    api_app.install(app)
    web_app.install(app)
    app.add_middleware(RawPathMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer, refusals too
    return app


def _routeless_error(request: Request, exc: Exception) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        return page_error(request, exc)
    return errors.json_error(request, exc)
