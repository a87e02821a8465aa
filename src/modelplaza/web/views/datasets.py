"""The dataset viewer page: a dataset revision's splits with their sizes, and for one file of a
split its schema, a page of rows (small pictures inline) and column statistics."""

from __future__ import annotations

from fastapi import Request

from modelplaza import data
from modelplaza.errors import NotFound
from modelplaza.http.context import get_plaza
from modelplaza.web.params import page_number
from modelplaza.web.repo_pages import load_repo_page
from modelplaza.web.routing import page_router, repo_route, repo_type_of
from modelplaza.web.templating import render

router = page_router()


@repo_route(router, "/viewer/{rev}")
def viewer(
    request: Request,
    namespace: str,
    name: str,
    rev: str,
    split: str | None = None,
    file: str | None = None,
    page: str = "1",
):
    if repo_type_of(request) != "dataset":
        raise NotFound("Only datasets have a viewer.")
    number = page_number(page)
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        rp = load_repo_page(request, session, namespace, name, rev, tab="viewer")
        shown = data.preview(session, plaza.contents, rp.commit_id, split, file, number)
    return render(request, "repo/viewer.html", rp=rp, view=shown, per_page=data.ROWS_PER_PAGE)
