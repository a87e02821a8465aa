"""The one place that decides who may do what. Routers, pages, the hub and the jobs queue all
ask ``allowed`` or ``require`` with an ``Action`` and the thing it acts on; nothing else states
a rule. Every decision comes through ``_denial``, where audit logging and fine-grained tokens
will hook in.

The rules: a private repo is seen only by its namespace (the user, or the org's members) and
site admins, and to everyone else it does not exist (404). Writing needs a write credential
(a read token, and a browser login on the API, may only read) and the write or admin role in
the repo's namespace; deleting a repo or changing its visibility needs the admin role. Jobs are
seen by their owner and the site admins.

A running job's token has its owner's rights, narrowed to what the job's spec names (its
``JobScope``): it reads what anyone may read and, of private repos, only those the spec reads
or writes; it writes only its output repo, and creates it only if its kind says so, with the
visibility the spec gives; it sees and reports for its own job only. Nothing else: no deleting
repos or changing their settings, no likes, no organisations, no other jobs, no submitting or
cancelling. Any code the job runs (a hub model's code, a dependency) holds the token, so the
token is worth no more than the job needs.

Stored content is shared by every repo that holds it, but knowing its sha256 gives nothing: a
writer may put content into a repo without sending its bytes only if a repo they may read
holds it, or its bytes were sent to that very repo (``may_reuse_content``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal, overload

from modelplaza.auth.principal import Authenticated, JobScope, Principal, Scope
from modelplaza.db.models import Job, Repo
from modelplaza.errors import AuthenticationRequired, Forbidden, JobNotFound, PlazaError, RepoNotFound

_WRITE_ROLES = {"write", "admin"}


class Action(Enum):
    """What a principal asks to do; the comment names the resource each one acts on."""

    READ_REPO = "read_repo"  # Repo
    WRITE_REPO = "write_repo"  # Repo: commit, upload, branches and tags
    ADMIN_REPO = "admin_repo"  # Repo: delete it, change its visibility
    LIKE_REPO = "like_repo"  # Repo
    CREATE_REPO = "create_repo"  # namespace name, or the NewRepo about to be created there
    MANAGE_ORG = "manage_org"  # organisation name: add, re-role and remove members
    LIST_JOBS = "list_jobs"  # None: one's own jobs (an admin's: everyone's)
    SUBMIT_JOB = "submit_job"  # None
    READ_JOB = "read_job"  # Job: its spec, events and logs
    CANCEL_JOB = "cancel_job"  # Job
    REPORT_JOB = "report_job"  # job id: send its events and result


@dataclass(frozen=True)
class NewRepo:
    """A repo about to be created: what CREATE_REPO acts on once the name is known."""

    type: str
    namespace: str
    name: str
    private: bool

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"


RepoRead = Literal[Action.READ_REPO]
RepoChange = Literal[Action.WRITE_REPO, Action.ADMIN_REPO, Action.LIKE_REPO]
NamespaceAction = Literal[Action.CREATE_REPO, Action.MANAGE_ORG]
JobsAction = Literal[Action.LIST_JOBS, Action.SUBMIT_JOB]
JobAction = Literal[Action.READ_JOB, Action.CANCEL_JOB]
JobReport = Literal[Action.REPORT_JOB]
Resource = Repo | NewRepo | Job | str | int | None


@overload
def allowed(principal: Principal, action: RepoRead | RepoChange, resource: Repo) -> bool: ...
@overload
def allowed(principal: Principal, action: NamespaceAction, resource: str) -> bool: ...
@overload
def allowed(principal: Principal, action: Literal[Action.CREATE_REPO], resource: NewRepo) -> bool: ...
@overload
def allowed(principal: Principal, action: JobsAction, resource: None = None) -> bool: ...
@overload
def allowed(principal: Principal, action: JobAction, resource: Job) -> bool: ...
@overload
def allowed(principal: Principal, action: JobReport, resource: int) -> bool: ...
def allowed(principal: Principal, action: Action, resource: Resource = None) -> bool:
    return _denial(principal, action, resource) is None


@overload
def require(principal: Principal, action: RepoRead, resource: Repo) -> None: ...
@overload
def require(principal: Principal, action: RepoChange, resource: Repo) -> Authenticated: ...
@overload
def require(principal: Principal, action: NamespaceAction, resource: str) -> Authenticated: ...
@overload
def require(
    principal: Principal, action: Literal[Action.CREATE_REPO], resource: NewRepo
) -> Authenticated: ...
@overload
def require(principal: Principal, action: JobsAction, resource: None = None) -> Authenticated: ...
@overload
def require(principal: Principal, action: JobAction, resource: Job) -> Authenticated: ...
@overload
def require(principal: Principal, action: JobReport, resource: int) -> Authenticated: ...
def require(principal: Principal, action: Action, resource: Resource = None) -> Authenticated | None:
    """Go on if ``principal`` may do ``action``, else raise the domain error that says why
    (RepoNotFound and JobNotFound where the thing must stay hidden). Every action but reading
    a repo needs a signed-in user, who is returned."""
    denial = _denial(principal, action, resource)
    if denial is not None:
        raise denial
    return principal if isinstance(principal, Authenticated) else None


def may_reuse_content(
    principal: Principal, target: Repo, *, received_by_target: bool, holders: Iterable[Repo]
) -> bool:
    """Whether ``principal`` may commit stored content into ``target`` without sending its
    bytes: they may write ``target``, and the bytes were sent to ``target``
    (``received_by_target``) or one of the ``holders`` (repos holding it) is theirs to read.
    Otherwise the bytes must be sent, whether or not the content is stored anywhere."""
    if not allowed(principal, Action.WRITE_REPO, target):
        return False
    return received_by_target or any(allowed(principal, Action.READ_REPO, repo) for repo in holders)


def browser_on_api(login: Authenticated) -> Authenticated:
    """A browser login, as the API sees it: read rights only. Downloads and images of private
    repos then work from the pages, and no other site can forge a write."""
    return replace(login, scope=Scope.READ)


def hidden_repo(repo_type: str, namespace: str, name: str) -> RepoNotFound:
    # The same answer for "does not exist" and "you may not see it": never reveal a private repo.
    return RepoNotFound(f"Repository not found: {repo_type} {namespace}/{name}")


def readable_namespaces(principal: Principal) -> set[str] | None:
    """Namespaces whose private repos the principal may see (the READ_REPO rule as a query
    filter); None means all of them."""
    if not isinstance(principal, Authenticated):
        return set()
    if principal.job is not None:
        # A job lists what anyone sees: it reads its private inputs by name, not from lists.
        return set()
    if principal.is_admin:
        return None
    return {principal.name, *principal.org_roles}


def visible_job_owner(principal: Authenticated) -> int | None:
    """Whose jobs the principal sees (the READ_JOB rule as a query filter); None means everyone's."""
    return None if principal.is_admin else principal.user_id


def namespace_role(principal: Principal, namespace: str) -> str | None:
    """The principal's role in a namespace (spelt in any case): "admin" for their own, the org
    role, or None."""
    if not isinstance(principal, Authenticated):
        return None
    # Account names are unique regardless of case, so "Lab" is the org "lab".
    wanted = namespace.lower()
    if principal.is_admin or principal.name.lower() == wanted:
        return "admin"
    return next((role for org, role in principal.org_roles.items() if org.lower() == wanted), None)


def _denial(principal: Principal, action: Action, resource: Resource) -> PlazaError | None:
    """Why ``principal`` may not do ``action`` on ``resource``, or None when it may."""
    job = principal.job if isinstance(principal, Authenticated) else None
    if job is not None and (denial := _beyond_job(job, action, resource)):
        return denial
    return _owner_denial(principal, action, resource)


def _owner_denial(principal: Principal, action: Action, resource: Resource) -> PlazaError | None:
    """The rules for people (and the owner's rights a job's token starts from)."""
    match action, resource:
        case Action.READ_REPO, Repo():
            return _read_repo(principal, resource)
        case Action.WRITE_REPO, Repo():
            return _write_repo(principal, resource)
        case Action.ADMIN_REPO, Repo():
            return _write_repo(principal, resource) or _admin_repo(principal, resource)
        case Action.LIKE_REPO, Repo():
            return _read_repo(principal, resource) or _writer(principal)
        case Action.CREATE_REPO, str():
            return _writer(principal) or _create_in(principal, resource)
        case Action.CREATE_REPO, NewRepo():
            return _writer(principal) or _create_in(principal, resource.namespace)
        case Action.MANAGE_ORG, str():
            return _writer(principal) or _manage_org(principal, resource)
        case Action.LIST_JOBS, None:
            return _signed_in(principal, "Authentication required: send a token to see your jobs")
        case Action.SUBMIT_JOB, None:
            return _writer(principal)
        case Action.READ_JOB, Job():
            return _read_job(principal, resource)
        case Action.CANCEL_JOB, Job():
            return _read_job(principal, resource) or _writer(principal)
        case Action.REPORT_JOB, int():
            return _job_itself(principal, resource)
    raise TypeError(f"{action} does not act on {resource!r}")


def _signed_in(principal: Principal, message: str) -> PlazaError | None:
    return None if isinstance(principal, Authenticated) else AuthenticationRequired(message)


def _writer(principal: Principal) -> PlazaError | None:
    if not isinstance(principal, Authenticated):
        return AuthenticationRequired("Authentication required: send a write token")
    if not principal.can_write:
        return Forbidden("This token is read-only: writing needs a token with the write scope")
    return None


def _read_repo(principal: Principal, repo: Repo) -> PlazaError | None:
    if not repo.private or namespace_role(principal, repo.namespace) is not None:
        return None
    return hidden_repo(repo.type, repo.namespace, repo.name)


def _write_repo(principal: Principal, repo: Repo) -> PlazaError | None:
    if denial := _read_repo(principal, repo) or _writer(principal):
        return denial
    if namespace_role(principal, repo.namespace) not in _WRITE_ROLES:
        return Forbidden(f"You may not write to {repo.repo_id}")
    return None


def _admin_repo(principal: Principal, repo: Repo) -> PlazaError | None:
    if namespace_role(principal, repo.namespace) != "admin":
        return Forbidden(f"Only admins of {repo.namespace!r} may change or delete {repo.repo_id}")
    return None


def _create_in(principal: Principal, namespace: str) -> PlazaError | None:
    if namespace_role(principal, namespace) not in _WRITE_ROLES:
        return Forbidden(f"You may not create repos in the namespace {namespace!r}")
    return None


def _manage_org(principal: Principal, org: str) -> PlazaError | None:
    if namespace_role(principal, org) != "admin":
        return Forbidden(f"Only admins of {org} can manage its members.")
    return None


def _read_job(principal: Principal, job: Job) -> PlazaError | None:
    """Jobs are their owner's (and the admins'): they hold recipes and logs."""
    if isinstance(principal, Authenticated) and (principal.is_admin or principal.user_id == job.owner_id):
        return None
    return JobNotFound(f"Job {job.id} not found")


def _job_itself(principal: Principal, job_id: int) -> PlazaError | None:
    """Reports come from the job itself: its token, and no other credential, may send them."""
    if isinstance(principal, Authenticated) and principal.job is not None and principal.job.job_id == job_id:
        return None
    return Forbidden(f"Only job {job_id}'s own token may report for it")


# What a job's token may never do, whatever its job: the message each refusal gives.
_NOT_FOR_JOBS = {
    Action.ADMIN_REPO: "A job's token cannot delete repos or change their settings",
    Action.LIKE_REPO: "A job's token cannot like repos",
    Action.MANAGE_ORG: "A job's token cannot manage organisations",
    Action.LIST_JOBS: "A job's token sees its own job only",
    # Jobs are started and stopped by people.
    Action.SUBMIT_JOB: "A job's token cannot submit or cancel jobs",
}


def _beyond_job(scope: JobScope, action: Action, resource: Resource) -> PlazaError | None:
    """Why a job's token may not do ``action`` on ``resource`` although its owner might, or
    None when the job's scope allows it (the owner's rights are checked after)."""
    match action, resource:
        case Action.READ_REPO, Repo():
            return _job_reads(scope, resource)
        case Action.WRITE_REPO, Repo():
            return _job_reads(scope, resource) or _job_writes(scope, resource)
        case Action.ADMIN_REPO | Action.LIKE_REPO, Repo():
            # A private repo outside the scope stays hidden, as it would be to anyone.
            return _job_reads(scope, resource) or Forbidden(_NOT_FOR_JOBS[action])
        case Action.CREATE_REPO, NewRepo():
            return _job_creates(scope, resource)
        case Action.CREATE_REPO, str():
            return Forbidden("A job's token creates no repo but its output repo")
        case Action.READ_JOB | Action.CANCEL_JOB, Job() if resource.id != scope.job_id:
            return JobNotFound(f"Job {resource.id} not found")
        case Action.CANCEL_JOB, Job():
            return Forbidden(_NOT_FOR_JOBS[Action.SUBMIT_JOB])
        case Action.MANAGE_ORG, str():
            return Forbidden(_NOT_FOR_JOBS[action])
        case Action.LIST_JOBS | Action.SUBMIT_JOB, None:
            return Forbidden(_NOT_FOR_JOBS[action])
    # Reading or reporting for its own job (the owner's rules say the rest), or the wrong kind
    # of resource, for which the owner's rules raise TypeError.
    return None


def _job_reads(scope: JobScope, repo: Repo) -> PlazaError | None:
    """Public repos as anyone; of private ones, only those the spec reads or writes."""
    named = [*scope.repos.reads, *([scope.repos.output.repo] if scope.repos.output else [])]
    if not repo.private or any(ref.names(repo.type, repo.repo_id) for ref in named):
        return None
    return hidden_repo(repo.type, repo.namespace, repo.name)


def _job_writes(scope: JobScope, repo: Repo) -> PlazaError | None:
    output = scope.repos.output
    if output is not None and output.repo.names(repo.type, repo.repo_id):
        return None
    return Forbidden(f"A job's token writes only to its output repo, not to {repo.repo_id}")


def _job_creates(scope: JobScope, new: NewRepo) -> PlazaError | None:
    output = scope.repos.output
    if output is None or not output.create or not output.repo.names(new.type, new.repo_id):
        return Forbidden(f"A job's token creates no repo but its output repo, not {new.repo_id}")
    if new.private != output.private:
        visibility = "private" if output.private else "public"
        return Forbidden(f"This job's spec makes {new.repo_id} a {visibility} repo")
    return None
