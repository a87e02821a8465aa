"""The header's search: models and datasets at once, the first of each with their counts and a
link to the whole list of either (which searches their cards the same way)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from modelplaza.http.context import get_plaza
from modelplaza.hub.repos import RepoQuery, count_repos, list_repos
from modelplaza.web.params import search_words
from modelplaza.web.routing import DATASETS_PREFIX, page_router
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()
SHOWN = 8
KINDS = (("model", "/models"), ("dataset", DATASETS_PREFIX))


@router.get("/search")
def search(request: Request):
    words = search_words(request.query_params)
    principal = page_principal(request)
    sections = []
    if words:
        with get_plaza(request).db.read() as session:
            for repo_type, path in KINDS:
                query = RepoQuery(
                    repo_type=repo_type, search=words, full_text=True, sort="trendingScore", limit=SHOWN
                )
                found = list_repos(session, principal, query)
                total = count_repos(session, principal, query) if len(found) == SHOWN else len(found)
                sections.append((repo_type, found, total, f"{path}?{urlencode({'search': words})}"))
    return render(request, "search.html", words=words, sections=sections)
