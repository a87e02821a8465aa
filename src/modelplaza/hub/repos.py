"""Repositories: create, find (respecting visibility), settings, delete, list and search."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from modelplaza.auth import permissions
from modelplaza.auth.accounts import find_account
from modelplaza.auth.permissions import Action, NewRepo
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.db.models import Account, Commit, Ref, Repo, RepoTag
from modelplaza.errors import AlreadyExists, BadRequest, Forbidden, PlazaError
from modelplaza.hub import trees
from modelplaza.hub.commits import initial_commit
from modelplaza.hub.trees import FileEntry
from modelplaza.names import check_name

REPO_TYPES = ("model", "dataset")


def check_repo_type(repo_type: str | None) -> str:
    repo_type = repo_type or "model"
    if repo_type not in REPO_TYPES:
        raise BadRequest(f"Unsupported repo type {repo_type!r}: ModelPlaza hosts models and datasets")
    return repo_type


def _lookup(session: Session, repo_type: str, namespace: str, name: str) -> Repo | None:
    """The repo of that id whatever its case, as on the Hub: ``Demo/Iris`` finds ``demo/iris``
    (the database holds one repo per type and id regardless of case), and callers answer with
    the repo's own spelling."""
    return session.scalar(
        select(Repo).where(
            Repo.type == repo_type,
            func.lower(Repo.namespace) == namespace.lower(),
            func.lower(Repo.name) == name.lower(),
        )
    )


def _find(session: Session, repo_type: str, namespace: str, name: str) -> Repo:
    repo = _lookup(session, repo_type, namespace, name)
    if repo is None:
        raise permissions.hidden_repo(repo_type, namespace, name)
    return repo


def get_readable(session: Session, principal: Principal, repo_type: str, namespace: str, name: str) -> Repo:
    repo = _find(session, repo_type, namespace, name)
    permissions.require(principal, Action.READ_REPO, repo)
    return repo


def get_writable(session: Session, principal: Principal, repo_type: str, namespace: str, name: str) -> Repo:
    return get_writable_by(session, principal, repo_type, namespace, name)[0]


def get_writable_by(
    session: Session, principal: Principal, repo_type: str, namespace: str, name: str
) -> tuple[Repo, Authenticated]:
    """The repo and the user who writes to it: the author of the commit that follows."""
    repo = _find(session, repo_type, namespace, name)
    return repo, permissions.require(principal, Action.WRITE_REPO, repo)


def get_administrable(
    session: Session, principal: Principal, repo_type: str, namespace: str, name: str
) -> Repo:
    repo = _find(session, repo_type, namespace, name)
    permissions.require(principal, Action.ADMIN_REPO, repo)
    return repo


def create_repo(
    session: Session,
    principal: Principal,
    repo_type: str,
    namespace: str,
    name: str,
    *,
    private: bool,
    gitattributes: FileEntry,
) -> Repo:
    """A new repo with an initial commit on ``main`` holding ``gitattributes`` (stored before
    the write by ``commits.default_gitattributes``); AlreadyExists if the id is taken."""
    check_name(name, "repo name")
    check_name(namespace, "namespace")
    owner = find_account(session, namespace)
    namespace = owner.name if owner is not None else namespace
    author = permissions.require(principal, Action.CREATE_REPO, NewRepo(repo_type, namespace, name, private))
    if owner is None:
        raise Forbidden(f"You may not create repos in the namespace {namespace!r}")
    existing = _lookup(session, repo_type, namespace, name)
    if existing is not None:
        raise _taken(principal, existing)
    repo = Repo(type=repo_type, namespace=namespace, name=name, owner_id=owner.id, private=private)
    try:
        with session.begin_nested():
            session.add(repo)
    except IntegrityError:
        # Created by a concurrent request since the lookup (PostgreSQL lets both look first).
        existing = _lookup(session, repo_type, namespace, name)
        if existing is None:
            raise
        raise _taken(principal, existing) from None
    initial_commit(session, repo, author.name, gitattributes)
    return repo


def _taken(principal: Principal, existing: Repo) -> PlazaError:
    if permissions.allowed(principal, Action.READ_REPO, existing):
        # Plain values, not the Repo: the rollback that follows the error expires it.
        return AlreadyExists(
            f"You already created this {existing.type} repo",
            repo_type=existing.type,
            repo_id=existing.repo_id,
        )
    return Forbidden(f"The name {existing.repo_id} is taken")


def delete_repo(session: Session, repo: Repo) -> None:
    # Trees and blobs stay: other repos may share them; garbage collection frees unused ones.
    session.execute(delete(Ref).where(Ref.repo_id == repo.id))
    session.execute(delete(Commit).where(Commit.repo_id == repo.id))
    session.delete(repo)


def names_in(session: Session, repo_type: str, namespace: str) -> list[str]:
    """The names of every repo of this type in ``namespace``, private ones too: for choosing a
    new name, not for showing."""
    statement = select(Repo.name).where(
        Repo.type == repo_type, func.lower(Repo.namespace) == namespace.lower()
    )
    return list(session.scalars(statement))


def update_settings(repo: Repo, *, private: bool | None) -> None:
    if private is not None:
        repo.private = private


def count_download(session: Session, repo_id: int) -> None:
    session.execute(update(Repo).where(Repo.id == repo_id).values(downloads=Repo.downloads + 1))


SORT_COLUMNS = {
    "downloads": Repo.downloads,
    "likes": Repo.likes,
    "lastModified": Repo.last_modified,
    "last_modified": Repo.last_modified,
    "createdAt": Repo.created_at,
    "created_at": Repo.created_at,
    # Trending needs activity history; until then downloads stand in for it.
    "trendingScore": Repo.downloads,
    "trending_score": Repo.downloads,
}


# Longer than any repo id, and far below what SQLite's LIKE takes (50,000 bytes of pattern).
MAX_SEARCH_LENGTH = 256


@dataclass
class RepoQuery:
    """What a list asks for; BadRequest for a search too long to be meant."""

    repo_type: str
    search: str | None = None
    # Search the cards' prose too, not only the repo ids (the API's ``search`` is ids only).
    full_text: bool = False
    author: str | None = None
    filters: tuple[str, ...] = ()
    sort: str | None = None
    ascending: bool = False
    offset: int = 0
    limit: int = 100

    def __post_init__(self) -> None:
        if self.search and len(self.search) > MAX_SEARCH_LENGTH:
            raise BadRequest(f"The search is too long: at most {MAX_SEARCH_LENGTH} characters")


def _visible(principal: Principal) -> ColumnElement[bool]:
    namespaces = permissions.readable_namespaces(principal)
    if namespaces is None:
        return Repo.private.is_not(None)
    return or_(Repo.private == false(), Repo.namespace.in_(namespaces))


def readable_holders(session: Session, principal: Principal, sha256: str, limit: int = 20) -> list[Repo]:
    """Some of the repos ``principal`` may read that hold this content in a commit (at most
    ``limit``: one is enough to tell that they may read it)."""
    holding = select(Repo).where(Repo.id.in_(trees.repos_holding(sha256)), _visible(principal))
    return list(session.scalars(holding.options(lazyload(Repo.tag_rows)).limit(limit)))


def _filtered(statement: Select, principal: Principal, query: RepoQuery) -> Select:
    # There are two repo types, so an index on the type never narrows a list; comparing an
    # expression keeps SQLite (which has no statistics to tell) from walking that index and
    # sorting afterwards, rather than reading repos newest first and stopping at a page.
    statement = statement.where(Repo.type + "" == query.repo_type, _visible(principal))
    if query.search:
        escaped = query.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        repo_id = func.lower(Repo.namespace + "/" + Repo.name)
        matches: ColumnElement[bool] = repo_id.like(pattern, escape="\\")
        if query.full_text:
            matches = or_(matches, func.lower(Repo.card_text).like(pattern, escape="\\"))
        statement = statement.where(matches)
    if query.author:
        # The author's own spelling, found regardless of case; repos hold it as their namespace.
        author = select(Account.name).where(func.lower(Account.name) == query.author.lower())
        statement = statement.where(Repo.namespace == author.scalar_subquery())
    return statement


def _tagged(statement: Select, filters: tuple[str, ...]) -> Select:
    # A card's tags hold its pipeline tag and library too, so every filter is a tag.
    for tag in dict.fromkeys(filters):
        statement = statement.where(Repo.id.in_(select(RepoTag.repo_id).where(RepoTag.tag == tag)))
    return statement


def list_repos(
    session: Session, principal: Principal, query: RepoQuery, *, with_tags: bool = True
) -> list[Repo]:
    """Visible repos matching the query, searched, filtered and paged in SQL. Without
    ``with_tags`` their tag rows are loaded only if touched: a caller listing many repos reads
    their tags at once with ``tags_of``, without building an object per tag."""
    if query.sort and query.sort not in SORT_COLUMNS:
        raise BadRequest(f"Unknown sort {query.sort!r}: choose one of {', '.join(SORT_COLUMNS)}")
    statement = _tagged(_filtered(select(Repo), principal, query), query.filters)
    if not with_tags:
        statement = statement.options(lazyload(Repo.tag_rows))
    if query.sort:
        column = SORT_COLUMNS[query.sort]
        statement = statement.order_by(column.asc() if query.ascending else column.desc())
    statement = statement.order_by(Repo.id.desc())
    return list(session.scalars(statement.offset(query.offset).limit(query.limit)))


def tags_of(session: Session, repo_ids: list[int]) -> dict[int, list[str]]:
    """Each repo's card tags, in the card's order, in one query."""
    tags: dict[int, list[str]] = {repo_id: [] for repo_id in repo_ids}
    rows = session.execute(
        select(RepoTag.repo_id, RepoTag.tag)
        .where(RepoTag.repo_id.in_(repo_ids))
        .order_by(RepoTag.repo_id, RepoTag.position)
    )
    for repo_id, tag in rows:
        tags[repo_id].append(tag)
    return tags


def count_repos(session: Session, principal: Principal, query: RepoQuery) -> int:
    """How many visible repos match the query, whatever its offset and limit."""
    statement = _tagged(_filtered(select(Repo.id), principal, query), query.filters)
    return session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()


LICENSE_TAG = "license:"
TASK_CATEGORY_TAG = "task_categories:"


def task_tag(repo_type: str, task: str) -> str:
    """The tag of the repos made for ``task``: a model's pipeline tag, a dataset's task category."""
    return TASK_CATEGORY_TAG + task if repo_type == "dataset" else task


@dataclass
class Facets:
    """The most common values among the repos a visitor can see that a query's search and
    author match (its tag filters aside), each with its repo count, most common first.
    Licences come from the ``license:X`` tags, dataset tasks from ``task_categories:X``;
    ``tags`` holds the other tags."""

    tasks: list[tuple[str, int]]
    libraries: list[tuple[str, int]]
    licenses: list[tuple[str, int]]
    tags: list[tuple[str, int]]


def facets(session: Session, principal: Principal, query: RepoQuery, limit: int = 10) -> Facets:
    """Counted by GROUP BY over the repos the visitor can see that the search and author match."""
    matching = _filtered(select(Repo.id, Repo.pipeline_tag, Repo.library_name), principal, query).subquery()
    dataset = query.repo_type == "dataset"
    tasks: Counter[str] = Counter() if dataset else _counted(session, matching.c.pipeline_tag)
    libraries = _counted(session, matching.c.library_name)
    licenses: Counter[str] = Counter()
    others: Counter[str] = Counter()
    # A tag that is the repo's own task or library is counted there, not among the other tags.
    own = or_(RepoTag.tag == matching.c.pipeline_tag, RepoTag.tag == matching.c.library_name)
    grouped = (
        select(RepoTag.tag, func.count(), func.count(case((own, 1))))
        .join(matching, matching.c.id == RepoTag.repo_id)
        .group_by(RepoTag.tag)
    )
    for tag, count, own_count in session.execute(grouped):
        if tag.startswith(LICENSE_TAG):
            licenses[tag.removeprefix(LICENSE_TAG)] = count
        elif dataset and tag.startswith(TASK_CATEGORY_TAG):
            tasks[tag.removeprefix(TASK_CATEGORY_TAG)] = count
        elif count > own_count:
            others[tag] = count - own_count
    return Facets(*(_most_common(c, limit) for c in (tasks, libraries, licenses, others)))


def _counted(session: Session, column) -> Counter[str]:
    grouped = select(column, func.count()).where(column.is_not(None), column != "").group_by(column)
    return Counter(dict(session.execute(grouped).tuples().all()))


def _most_common(counter: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Ties in name order, so the sidebar does not reshuffle between visits.
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
