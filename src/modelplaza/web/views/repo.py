"""A repo's own pages: the rendered card with its facts and "use this" snippets, the file tree,
one file, the commit history and one commit; the branch selector and the like button."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Form, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.responses import Response

from modelplaza.errors import BadRequest, EntryNotFound, InvalidName
from modelplaza.http.context import get_plaza, public_url
from modelplaza.http.rawpath import param
from modelplaza.hub import cards, commits, diffs, likes, trees
from modelplaza.names import split_repo_id
from modelplaza.web import previews, snippets
from modelplaza.web.markdown import render_markdown
from modelplaza.web.params import page_number
from modelplaza.web.repo_pages import RepoPage, load_repo_page
from modelplaza.web.routing import page_router, repo_route
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()
COMMITS_PAGE = 20
# Card facts shown in the sidebar: (label, front matter key, list filter parameter, value prefix).
FACTS = (
    ("Licence", "license", "license", ""),
    ("Task", "pipeline_tag", "pipeline_tag", ""),
    ("Tasks", "task_categories", "tag", "task_categories:"),
    ("Library", "library_name", "library", ""),
    ("Datasets", "datasets", "tag", "dataset:"),
    ("Base model", "base_model", "tag", "base_model:"),
    ("Languages", "language", "tag", ""),
)


@dataclass
class ShownCard:
    data: dict
    html: Markup | None  # None: the revision has no README.md


def _read_card(rp: RepoPage, text: str | None) -> ShownCard:
    if text is None:
        return ShownCard({}, None)
    # Commits refuse a README whose metadata does not parse, so every committed card parses.
    return ShownCard(*rp.render_card(text))


def _facts(rp: RepoPage, data: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each fact's values, linked to the list of repos sharing it (a base model to its page)."""
    listing = "/datasets" if rp.repo.type == "dataset" else "/models"

    def href(key: str, parameter: str, prefix: str, value: str) -> str:
        # Only a well-formed repo id becomes a path: "/evil.example/x" would make the address
        # "//evil.example/x", which browsers read as another site.
        if key == "base_model" and _is_repo_id(value):
            return "/" + quote(value)
        return f"{listing}?{urlencode({parameter: prefix + value})}"

    facts = []
    for label, key, parameter, prefix in FACTS:
        links = [(value, href(key, parameter, prefix, value)) for value in cards.as_list(data.get(key))]
        if links:
            facts.append((label, links))
    return facts


def _is_repo_id(value: str) -> bool:
    try:
        split_repo_id(value)
    except InvalidName:
        return False
    return True


def _card(request: Request, namespace: str, name: str, revision: str | None) -> Response:
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        rp = load_repo_page(request, session, namespace, name, revision, "card")
        snapshot = trees.snapshot(session, rp.commit_id)
        head = commits.get_commits(session, [rp.commit_id])[0]
        readme = snapshot.files.get(commits.README)
        text = previews.read_text(session, plaza.contents, readme).text if readme else None
    card = _read_card(rp, text)
    paths = list(snapshot.files)
    return render(
        request,
        "repo/card.html",
        rp=rp,
        card=card,
        facts=_facts(rp, card.data),
        tags=cards.as_list(card.data.get("tags")),
        head=head,
        total_size=sum(entry.size for entry in snapshot.files.values()),
        file_count=len(paths),
        snippets=snippets.use_snippets(public_url(request), rp.repo, rp.revision, paths, card.data),
    )


@repo_route(router, "")
def card_page(request: Request, namespace: str, name: str) -> Response:
    return _card(request, namespace, name, None)


@repo_route(router, "/card/{revision}")
def card_at_revision(request: Request, namespace: str, name: str, revision: str) -> Response:
    return _card(request, namespace, name, revision)


def _tree(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    with get_plaza(request).db.read() as session:
        rp = load_repo_page(request, session, namespace, name, revision, "tree")
        snapshot = trees.snapshot(session, rp.commit_id)
        head = commits.get_commits(session, [rp.commit_id])[0]
    if path and not snapshot.is_dir(path):
        if path in snapshot.files:
            return RedirectResponse(rp.tab_url("blob", path=path), status_code=303)
        raise EntryNotFound(
            f"There is no folder {path!r} at this revision of {rp.repo.repo_id}", rp.commit_id
        )
    rp.path = path
    items = sorted(
        snapshot.list(path, recursive=False), key=lambda item: (not item.is_dir, item.path.lower())
    )
    return render(request, "repo/tree.html", rp=rp, items=items, head=head)


@repo_route(router, "/tree/{revision}")
def tree_root(request: Request, namespace: str, name: str, revision: str) -> Response:
    return _tree(request, namespace, name, revision, "")


@repo_route(router, "/tree/{revision}/{path:path}")
def tree_folder(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    return _tree(request, namespace, name, revision, param(path).strip("/"))


@repo_route(router, "/blob/{revision}/{path:path}")
def blob(request: Request, namespace: str, name: str, revision: str, path: str, view: str = "") -> Response:
    plaza = get_plaza(request)
    path = param(path).strip("/")
    with plaza.db.read() as session:
        rp = load_repo_page(request, session, namespace, name, revision, "tree")
        entry = trees.get_file(session, rp.commit_id, path)
        if entry is None:
            if trees.snapshot(session, rp.commit_id).is_dir(path):
                return RedirectResponse(rp.tab_url("tree", path=path), status_code=303)
            raise EntryNotFound(
                f"There is no file {path!r} at this revision of {rp.repo.repo_id}", rp.commit_id
            )
        shown = previews.preview(session, plaza.contents, path, entry)
    rp.path = path
    rendered = None
    if shown.kind == "markdown" and view != "source":
        # Relative links in a markdown file resolve against its own folder.
        folder = quote(path.rsplit("/", 1)[0] + "/") if "/" in path else ""
        link_base = rp.resolve_url + folder
        rendered = render_markdown(shown.text, link_base=link_base)
    return render(
        request,
        "repo/blob.html",
        rp=rp,
        entry=entry,
        shown=shown,
        rendered=rendered,
        shown_limit=previews.SHOWN_LIMIT,
    )


@repo_route(router, "/commits/{revision}")
def history(request: Request, namespace: str, name: str, revision: str) -> Response:
    page = page_number(request.query_params.get("p"))
    with get_plaza(request).db.read() as session:
        rp = load_repo_page(request, session, namespace, name, revision, "commits")
        history = commits.history_page(session, rp.commit_id, page - 1, COMMITS_PAGE)
        counts = diffs.change_counts(session, [c.id for c in history.commits])
    return render(
        request,
        "repo/commits.html",
        rp=rp,
        commits=history.commits,
        counts=counts,
        page=page,
        has_next=history.total > page * COMMITS_PAGE,
        total=history.total,
    )


@repo_route(router, "/commit/{sha}")
def commit_page(request: Request, namespace: str, name: str, sha: str) -> Response:
    with get_plaza(request).db.read() as session:
        rp = load_repo_page(request, session, namespace, name, sha, "commits")
        commit = commits.get_commits(session, [rp.commit_id])[0]
        changes = diffs.changed_files(session, commit.id, commit.parent_id)
    return render(request, "repo/commit.html", rp=rp, commit=commit, changes=changes)


@repo_route(router, "/switch")
def switch(
    request: Request, namespace: str, name: str, rev: str = "", tab: str = "card", path: str = ""
) -> Response:
    """The branch selector: the same tab and path at another revision, or the files' root when
    that path does not exist there."""
    with get_plaza(request).db.read() as session:
        rp = load_repo_page(request, session, namespace, name, rev or None, tab)
        snapshot = trees.snapshot(session, rp.commit_id)
    path = path.strip("/")
    if tab in ("card", "commits") or (tab == "viewer" and rp.repo.type == "dataset"):
        target = rp.tab_url(tab)
    elif path in snapshot.files:
        target = rp.tab_url("blob", path=path)
    else:
        target = rp.tab_url("tree", path=path if snapshot.is_dir(path) else "")
    return RedirectResponse(target, status_code=303)


def _back(request: Request, fallback: str) -> str:
    """Where a form posted from one of this repo's pages returns to: that page (path only, so
    never another site)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path == fallback or referer.path.startswith(fallback + "/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return fallback


@repo_route(router, "/like", methods=("POST",))
def like(request: Request, namespace: str, name: str, liked: Annotated[str, Form()] = "") -> Response:
    if liked not in ("0", "1"):
        raise BadRequest("The form field 'liked' must be 1 (like) or 0 (unlike)")
    principal = page_principal(request)
    if principal.is_anonymous:
        login = "/login?" + urlencode({"next": request.url.path.removesuffix("/like")})
        if request.headers.get("hx-request"):
            return Response(headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)
    with get_plaza(request).db.write() as session:
        rp = load_repo_page(request, session, namespace, name)
        likes.set_like(session, principal, rp.repo, liked == "1")
        rp.liked = liked == "1"
    if request.headers.get("hx-request"):
        return render(request, "repo/like_button.html", rp=rp)
    return RedirectResponse(_back(request, rp.url), status_code=303)
