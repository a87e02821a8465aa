"""Who is making a request: nobody in particular, or a signed-in user with what their
credential allows. Code that needs an author or an owner takes ``Authenticated``, so the type
checker proves that it never gets an anonymous caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar


class Scope(Enum):
    """What a credential allows: a read token cannot write even where its user could."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class RepoRef:
    """A repo named by type and id ("namespace/name"), whether or not it exists yet."""

    type: str
    repo_id: str

    def names(self, repo_type: str, repo_id: str) -> bool:
        # Repo ids match regardless of case, as on the Hub.
        return self.type == repo_type and self.repo_id.lower() == repo_id.lower()


@dataclass(frozen=True)
class JobOutput:
    """The repo a job writes; ``create`` lets it create that repo, with the visibility
    ``private`` says, when it is missing."""

    repo: RepoRef
    create: bool = False
    private: bool = False


@dataclass(frozen=True)
class JobRepos:
    """What a job's spec says it reads and writes, as its kind declares (``jobs.kinds``)."""

    reads: frozenset[RepoRef] = frozenset()
    output: JobOutput | None = None


@dataclass(frozen=True)
class JobScope:
    """What a running job's token reaches: its own job, and the repos its spec names."""

    job_id: int
    repos: JobRepos = JobRepos()


@dataclass(frozen=True)
class Anonymous:
    """A caller without credentials: reads what is public, nothing else."""

    is_anonymous: ClassVar[bool] = True
    is_admin: ClassVar[bool] = False


@dataclass(frozen=True)
class Authenticated:
    """A signed-in user, by API token, browser login or a running job's token."""

    user_id: int
    name: str
    scope: Scope
    is_admin: bool = False
    token_name: str | None = None
    # Organisation name -> role ("read" | "write" | "admin").
    org_roles: Mapping[str, str] = field(default_factory=dict)
    # Set for a job's own token: it has the owner's rights within that scope only.
    job: JobScope | None = None

    is_anonymous: ClassVar[bool] = False

    @property
    def can_write(self) -> bool:
        return self.scope is Scope.WRITE


Principal = Anonymous | Authenticated

ANONYMOUS = Anonymous()
