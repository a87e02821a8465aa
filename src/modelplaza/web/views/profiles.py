"""Profile pages (``/{name}``) of users and organisations: who they are and the repos the
visitor may see; a user's page also lists the repos they liked."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from modelplaza.auth import accounts, permissions
from modelplaza.auth.permissions import Action
from modelplaza.http.context import get_plaza
from modelplaza.hub.likes import liked_repos
from modelplaza.hub.repos import RepoQuery, list_repos
from modelplaza.web.routing import page_router
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()
SHOWN = 100
REPO_TYPES = (("model", "Models", "/models"), ("dataset", "Datasets", "/datasets"))


def _newest_of(repo_type: str, namespace: str) -> RepoQuery:
    return RepoQuery(repo_type, author=namespace, sort="lastModified", limit=SHOWN)


@router.get("/{name}")
def profile(request: Request, name: str, tab: str = "repos") -> Response:
    principal = page_principal(request)
    with get_plaza(request).db.read() as session:
        account = accounts.get_account(session, name)
        if account.is_org:
            tab = "repos"  # organisations do not like repos
            related = [member.name for member, _role in accounts.list_members(session, name)]
        else:
            related = sorted(accounts.org_roles(session, account.id))
        if tab == "likes":
            liked = liked_repos(session, principal, account.id)
            sections = []
        else:
            tab, liked = "repos", []
            sections = [
                (label, href, list_repos(session, principal, _newest_of(kind, name)))
                for kind, label, href in REPO_TYPES
            ]
    can_manage = account.is_org and permissions.allowed(principal, Action.MANAGE_ORG, account.name)
    return render(
        request,
        "accounts/profile.html",
        shown=SHOWN,
        can_manage=can_manage,
        account=account,
        related=related,
        tab=tab,
        sections=sections,
        liked=liked,
    )
