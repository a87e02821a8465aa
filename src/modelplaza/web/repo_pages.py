"""What every repo page needs: the repo (if the visitor may see it), the revision being shown,
the branches and tags for the selector, and what the visitor may do there."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.orm import Session

from modelplaza.api.rawpath import param
from modelplaza.auth import permissions
from modelplaza.db.models import Ref, Repo
from modelplaza.hub import likes, refs, repos
from modelplaza.web.routing import repo_type_of, repo_url
from modelplaza.web.sessions import page_principal

# The tabs of a repo page, by the URL segment that selects them.
TABS = {"card": "Card", "tree": "Files", "commits": "Commits", "viewer": "Viewer", "settings": "Settings"}


@dataclass
class RepoPage:
    repo: Repo
    revision: str  # as the visitor named it: a branch, tag or sha
    commit_id: str
    branches: list[str]
    tags: list[str]
    can_write: bool
    can_administer: bool
    liked: bool
    tab: str = "card"
    path: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return repo_url(self.repo)

    @property
    def is_branch(self) -> bool:
        return self.revision in self.branches

    @property
    def tabs(self) -> list[tuple[str, str]]:
        shown = ["card", "tree", "commits"]
        if self.repo.type == "dataset":
            shown.append("viewer")
        if self.can_administer:
            shown.append("settings")
        return [(tab, TABS[tab]) for tab in shown]


def load_repo_page(
    request: Request,
    session: Session,
    namespace: str,
    name: str,
    revision: str | None = None,
    tab: str = "card",
) -> RepoPage:
    """The page's repo and revision; RepoNotFound / RevisionNotFound (shown as a 404 page) when
    the visitor may not see it or it does not exist."""
    principal = page_principal(request)
    repo = repos.get_readable(session, principal, repo_type_of(request), param(namespace), param(name))
    revision = param(revision) if revision else refs.DEFAULT_BRANCH
    commit_id = refs.resolve(session, repo, revision)
    all_refs: list[Ref] = refs.list_refs(session, repo)
    writable = not principal.is_anonymous and permissions.can_write(principal, repo)
    return RepoPage(
        repo=repo,
        revision=revision,
        commit_id=commit_id,
        branches=sorted(r.name for r in all_refs if r.kind == "branch"),
        tags=sorted(r.name for r in all_refs if r.kind == "tag"),
        can_write=writable,
        can_administer=writable and permissions.can_administer(principal, repo),
        liked=likes.has_liked(session, principal, repo),
        tab=tab,
    )
