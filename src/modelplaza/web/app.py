"""Adds the pages and their static files to the plaza's ASGI app, after the API's routes
(``modelplaza.app``) so that ``/api/...``, ``/cas/...`` and ``.../resolve/...`` keep their meaning."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from modelplaza.web.templating import HERE
from modelplaza.web.views import (
    accounts,
    datasets,
    home,
    jobs,
    lists,
    profiles,
    publish,
    repo,
    search,
    settings,
)

# Single-segment pages before profiles (``/{name}``); the repo pages last, as their patterns
# are the widest.
VIEWS = (home, lists, search, accounts, settings, publish, jobs, profiles, datasets, repo)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for view in VIEWS:
        app.include_router(view.router)
