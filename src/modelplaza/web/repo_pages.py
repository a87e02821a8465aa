"""What every repo page needs: the repo (if the visitor may see it), the revision being shown,
the branches and tags for the selector, and what the visitor may do there."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from modelplaza.auth import permissions
from modelplaza.auth.permissions import Action
from modelplaza.db.models import Ref, Repo
from modelplaza.http.rawpath import param
from modelplaza.hub import cards, likes, refs, repos
from modelplaza.web.markdown import render_markdown
from modelplaza.web.routing import repo_type_of, repo_url
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import url_segment

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

    @property
    def url(self) -> str:
        return repo_url(self.repo)

    @property
    def resolve_url(self) -> str:
        """Where this revision's files download from (a folder URL: relative links join it)."""
        return f"{self.url}/resolve/{url_segment(self.revision)}/"

    def tab_url(self, tab: str, revision: str | None = None, path: str = "") -> str:
        """A tab's address at ``revision`` (this page's by default): where links and the
        selector lead."""
        revision = revision or self.revision
        if tab == "card":
            return self.url if revision == refs.DEFAULT_BRANCH else f"{self.url}/card/{url_segment(revision)}"
        url = f"{self.url}/{tab}/{url_segment(revision)}"
        return f"{url}/{quote(path)}" if path else url

    def render_card(self, text: str) -> tuple[dict, Markup]:
        """A card's metadata and its prose as sanitised HTML, its relative links into this
        revision's files; InvalidCardMetadata when the front matter does not parse."""
        card = cards.parse_card(text)
        return card.card_data, render_markdown(card.text, link_base=self.resolve_url)

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
    writable = permissions.allowed(principal, Action.WRITE_REPO, repo)
    return RepoPage(
        repo=repo,
        revision=revision,
        commit_id=commit_id,
        branches=sorted(r.name for r in all_refs if r.kind == "branch"),
        tags=sorted(r.name for r in all_refs if r.kind == "tag"),
        can_write=writable,
        can_administer=writable and permissions.allowed(principal, Action.ADMIN_REPO, repo),
        liked=likes.has_liked(session, principal, repo),
        tab=tab,
    )
