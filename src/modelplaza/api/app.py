"""Adds the API's routers to the plaza's ASGI app, before the pages (``modelplaza.app``)."""

from __future__ import annotations

from fastapi import FastAPI

from modelplaza.api import cas, openapi
from modelplaza.api.hf import files, lfs, likes, refs, repos, resolve, users, xet
from modelplaza.api.plaza import health, jobs

# Order matters: fixed paths first, then the ones that start with ``/api/{models|datasets}``.
ROUTERS = (health, jobs, users, likes, cas, lfs, xet, repos, refs, files, resolve)


def install(app: FastAPI) -> None:
    openapi.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
