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
    # Set for a job's own token: it acts as the job's owner and reports for that job only.
    job_id: int | None = None

    is_anonymous: ClassVar[bool] = False

    @property
    def can_write(self) -> bool:
        return self.scope is Scope.WRITE


Principal = Anonymous | Authenticated

ANONYMOUS = Anonymous()
