"""The home page: search, and what is trending and new among models and datasets."""

from __future__ import annotations

from fastapi import Request

from modelplaza.http.context import get_plaza
from modelplaza.hub.repos import RepoQuery, list_repos
from modelplaza.web.routing import page_router
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()
SHOWN = 6


@router.get("/")
def home(request: Request):
    principal = page_principal(request)
    sections = {}
    with get_plaza(request).db.read() as session:
        for repo_type in ("model", "dataset"):
            for sort in ("trendingScore", "lastModified"):
                query = RepoQuery(repo_type=repo_type, sort=sort, limit=SHOWN)
                sections[repo_type, sort] = list_repos(session, principal, query)
    return render(request, "home.html", sections=sections)
