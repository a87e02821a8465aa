"""What the pages that change a repo share: logging in first, the repo page of a repo the
visitor may change, the branch a change goes to, and the redirect with a notice that follows."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from modelplaza.api.rawpath import param
from modelplaza.errors import BadRequest
from modelplaza.hub import repos
from modelplaza.web.repo_pages import RepoPage, load_repo_page
from modelplaza.web.routing import repo_type_of
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import flash
from modelplaza.web.views.accounts import login_redirect


def login_first(request: Request) -> RedirectResponse | None:
    """A visitor who is not logged in goes to the login page first, then comes back."""
    return login_redirect(request) if page_principal(request).is_anonymous else None


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


def redirect(url: str, notice: str) -> RedirectResponse:
    """After a change: to ``url`` (303, so a reload does not send the form again), with a notice."""
    response = RedirectResponse(url, status_code=303)
    flash(response, notice)
    return response
