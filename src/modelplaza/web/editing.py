"""What the pages that change a repo share: the repo page of a repo the visitor may change,
and the branch a change goes to."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from modelplaza.errors import BadRequest
from modelplaza.http.rawpath import param
from modelplaza.hub import repos
from modelplaza.web.repo_pages import RepoPage, load_repo_page
from modelplaza.web.routing import repo_type_of
from modelplaza.web.sessions import page_principal


def writable_page(
    request: Request,
    session: Session,
    namespace: str,
    name: str,
    rev: str | None,
    tab: str,
    *,
    admin: bool = False,
) -> RepoPage:
    """The page of a repo the visitor may change (administer, with ``admin``): RepoNotFound
    when they may not see it, Forbidden when they may only read it."""
    check = repos.get_administrable if admin else repos.get_writable
    check(session, page_principal(request), repo_type_of(request), param(namespace), param(name))
    return load_repo_page(request, session, namespace, name, rev, tab)


def branch_of(rp: RepoPage) -> str:
    """The branch a change shown on this page commits to; a tag or a commit takes none."""
    if not rp.is_branch:
        raise BadRequest(f"{rp.revision!r} is not a branch: changes are committed to a branch")
    return rp.revision
