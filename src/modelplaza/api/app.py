"""The ASGI application: routers, error handling, raw-path routing."""

from __future__ import annotations

from fastapi import FastAPI

from modelplaza import __version__
from modelplaza.api import cas, errors, openapi
from modelplaza.api.hf import files, lfs, likes, refs, repos, resolve, users, xet
from modelplaza.api.plaza import jobs
from modelplaza.api.rawpath import RawPathMiddleware
from modelplaza.plaza import Plaza
from modelplaza.web import app as web


def create_app(plaza: Plaza) -> FastAPI:
    app = FastAPI(
        title="ModelPlaza",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=openapi.OPENAPI_URL,
    )
    app.state.plaza = plaza
    errors.install(app)
    openapi.install(app)

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    # Order matters: fixed paths first, then the ones that start with ``/api/{models|datasets}``.
    for module in (jobs, users, likes, cas, lfs, xet, repos, refs, files, resolve):
        app.include_router(module.router)
    # The pages come last: their patterns are wider than the API's.
    web.install(app)
    app.add_middleware(RawPathMiddleware)

    return app
