"""The model and dataset lists: full-text search (``?search=``, the Hub's own parameter, or
``?q=``), filters picked from the sidebar's facets, sort and pages. Everything lives in the
address, so a list can be shared or bookmarked. The page is one GET form that works without
JavaScript; with htmx the same view answers with only the form's inside (``lists/body.html``),
which is swapped in place while the address follows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from modelplaza.auth.principal import Principal
from modelplaza.errors import BadRequest
from modelplaza.http.context import get_plaza
from modelplaza.hub.repos import (
    LICENSE_TAG,
    Facets,
    RepoQuery,
    count_repos,
    facets,
    list_repos,
    task_tag,
)
from modelplaza.web.params import page_number, search_words, whole_number
from modelplaza.web.routing import DATASETS_PREFIX, page_router
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()

PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
FACET_SIZE = 12
# The page's sort names, the RepoQuery sort they stand for and their label; the first is the default.
SORTS = {
    "trending": ("trendingScore", "Trending"),
    "likes": ("likes", "Most likes"),
    "downloads": ("downloads", "Most downloads"),
    "updated": ("lastModified", "Recently updated"),
}
DEFAULT_SORT = next(iter(SORTS))
# Single-valued filters: query parameter and the label of its chip. ``tag`` may repeat.
FILTERS = (
    ("search", "Search"),
    ("author", "Author"),
    ("pipeline_tag", "Task"),
    ("library", "Library"),
    ("license", "Licence"),
)


@dataclass(frozen=True)
class Listing:
    """What the visitor asked for, read from the address and written back into every link."""

    path: str
    search: str = ""
    author: str = ""
    pipeline_tag: str = ""
    library: str = ""
    license: str = ""
    tags: tuple[str, ...] = ()
    sort: str = DEFAULT_SORT
    page: int = 1
    limit: int = PAGE_SIZE

    @property
    def repo_type(self) -> str:
        return "dataset" if self.path == DATASETS_PREFIX else "model"

    def query(self) -> RepoQuery:
        # Tasks, libraries and licences are all tags.
        task = task_tag(self.repo_type, self.pipeline_tag) if self.pipeline_tag else ""
        license_tag = LICENSE_TAG + self.license if self.license else ""
        filters = (task, self.library, license_tag, *self.tags)
        return RepoQuery(
            repo_type=self.repo_type,
            search=self.search or None,
            full_text=True,
            author=self.author or None,
            filters=tuple(f for f in filters if f),
            sort=SORTS[self.sort][0],
            offset=(self.page - 1) * self.limit,
            limit=self.limit,
        )

    def url(self, **changes: Any) -> str:
        """This list's address with ``changes``; any change but the page goes back to page 1."""
        target = replace(self, **{"page": 1, **changes})
        params = [(name, getattr(target, name)) for name, _ in FILTERS if getattr(target, name)]
        params += [("tag", tag) for tag in target.tags]
        if target.sort != DEFAULT_SORT:
            params.append(("sort", target.sort))
        if target.limit != PAGE_SIZE:
            params.append(("limit", str(target.limit)))
        if target.page > 1:
            params.append(("p", str(target.page)))
        return target.path + (f"?{urlencode(params)}" if params else "")

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    @property
    def chips(self) -> list[tuple[str, str]]:
        """The active filters as (label, the address without it)."""
        chips = [
            (f"{label}: {getattr(self, name)}", self.url(**{name: ""}))
            for name, label in FILTERS
            if getattr(self, name)
        ]
        chips += [
            (f"Tag: {tag}", self.url(tags=tuple(t for t in self.tags if t != tag))) for tag in self.tags
        ]
        return chips

    @property
    def cleared_url(self) -> str:
        return Listing(self.path, sort=self.sort, limit=self.limit).url()


@dataclass
class FacetGroup:
    """One sidebar box: its query parameter, its title, and (value, repo count, chosen) rows.
    A chosen value outside the most common ones is kept (without a count) so it can be unticked."""

    name: str
    legend: str
    options: list[tuple[str, int | None, bool]]
    multiple: bool = False

    @property
    def has_choice(self) -> bool:
        return any(chosen for _, _, chosen in self.options)


def _group(name: str, legend: str, counted: list[tuple[str, int]], chosen: tuple[str, ...]) -> FacetGroup:
    shown = {value for value, _ in counted}
    options: list[tuple[str, int | None, bool]] = [
        (value, count, value in chosen) for value, count in counted
    ]
    options += [(value, None, True) for value in chosen if value and value not in shown]
    return FacetGroup(name, legend, options, multiple=name == "tag")


def _facet_groups(listing: Listing, found: Facets) -> list[FacetGroup]:
    return [
        _group("pipeline_tag", "Tasks", found.tasks, (listing.pipeline_tag,)),
        _group("library", "Libraries", found.libraries, (listing.library,)),
        _group("license", "Licences", found.licenses, (listing.license,)),
        _group("tag", "Tags", found.tags, listing.tags),
    ]


def _listing(path: str, params: QueryParams) -> Listing:
    sort = params.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise BadRequest(f"Unknown sort {sort[:40]!r}: choose one of {', '.join(SORTS)}")
    return Listing(
        path,
        **{name: params.get(name, "").strip() for name, _ in FILTERS if name != "search"},
        search=search_words(params),
        tags=tuple(dict.fromkeys(tag.strip() for tag in params.getlist("tag") if tag.strip())),
        sort=sort,
        page=page_number(params.get("p")),
        limit=whole_number(params.get("limit"), "The page size limit", PAGE_SIZE, MAX_PAGE_SIZE),
    )


def _is_htmx_swap(request: Request) -> bool:
    # A history restore (the page fell out of htmx's cache) needs the whole page.
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def _elsewhere(session: Session, principal: Principal, listing: Listing) -> tuple[str, int, str] | None:
    """For a search: how many repos of the other type match the same words, and where they
    are listed (a search for a dataset from the models' page finds it there)."""
    if not listing.search:
        return None
    other = "model" if listing.repo_type == "dataset" else "dataset"
    count = count_repos(session, principal, RepoQuery(repo_type=other, search=listing.search, full_text=True))
    path = DATASETS_PREFIX if other == "dataset" else "/models"
    return other, count, f"{path}?{urlencode({'search': listing.search})}"


@router.get("/models")
@router.get(DATASETS_PREFIX)
def repo_list(request: Request):
    listing = _listing(request.url.path, request.query_params)
    principal = page_principal(request)
    with get_plaza(request).db.read() as session:
        query = listing.query()
        repos = list_repos(session, principal, query)
        total = count_repos(session, principal, query)
        found = facets(session, principal, query, FACET_SIZE)
        elsewhere = _elsewhere(session, principal, listing)
    response = render(
        request,
        "lists/body.html" if _is_htmx_swap(request) else "lists.html",
        listing=listing,
        repos=repos,
        total=total,
        has_next=listing.page * listing.limit < total,
        groups=_facet_groups(listing, found),
        sorts=SORTS,
        page_size=PAGE_SIZE,
        elsewhere=elsewhere,
    )
    # The same address answers a whole page or its inside: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response
