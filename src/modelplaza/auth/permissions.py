"""The one place that decides who may read or write what."""

from __future__ import annotations

from modelplaza.auth.principal import Principal
from modelplaza.db.models import Job, Repo

_WRITE_ROLES = {"write", "admin"}


def namespace_role(principal: Principal, namespace: str) -> str | None:
    """The principal's role in a namespace: "admin" for their own, the org role, or None."""
    if principal.is_anonymous:
        return None
    if principal.is_admin or principal.name == namespace:
        return "admin"
    return principal.org_roles.get(namespace)


def can_read(principal: Principal, repo: Repo) -> bool:
    return not repo.private or namespace_role(principal, repo.namespace) is not None


def can_write(principal: Principal, repo: Repo) -> bool:
    return principal.can_write_scope and namespace_role(principal, repo.namespace) in _WRITE_ROLES


def can_create_in(principal: Principal, namespace: str) -> bool:
    return principal.can_write_scope and namespace_role(principal, namespace) in _WRITE_ROLES


def can_administer(principal: Principal, repo: Repo) -> bool:
    """Delete the repo or change its visibility."""
    return principal.can_write_scope and namespace_role(principal, repo.namespace) == "admin"


def readable_namespaces(principal: Principal) -> set[str] | None:
    """Namespaces whose private repos the principal may see; None means all of them."""
    if principal.is_admin:
        return None
    if principal.is_anonymous:
        return set()
    return {principal.name, *principal.org_roles}


def can_manage_members(principal: Principal, org_name: str) -> bool:
    """Add, re-role and remove an organisation's members: its admins (and site admins)."""
    return principal.can_write_scope and namespace_role(principal, org_name) == "admin"


def can_see_job(principal: Principal, job: Job) -> bool:
    """Jobs are their owner's (and the admins'): they hold recipes and logs."""
    return not principal.is_anonymous and (principal.is_admin or principal.user_id == job.owner_id)
