"""Who is making a request, as the permission module sees it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: int | None = None
    name: str | None = None
    is_admin: bool = False
    # What the credential allows: a read token cannot write even where its user could.
    can_write_scope: bool = False
    token_name: str | None = None
    # Organisation name -> role ("read" | "write" | "admin").
    org_roles: dict[str, str] = field(default_factory=dict)
    # Set for a job's own token: it may report for that job only.
    job_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Principal()
