"""Path parameters shared by the HF routers: the repo a URL names."""

from __future__ import annotations

from dataclasses import dataclass

from modelplaza.errors import BadRequest
from modelplaza.http.rawpath import param

TYPE_BY_PLURAL = {"models": "model", "datasets": "dataset"}


@dataclass(frozen=True)
class RepoPath:
    type: str
    namespace: str
    name: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.type, self.namespace, self.name


def repo_type_from_plural(plural: str) -> str:
    repo_type = TYPE_BY_PLURAL.get(plural)
    if repo_type is None:
        raise BadRequest(f"Unsupported repo type {plural!r}: ModelPlaza hosts models and datasets")
    return repo_type


def api_repo(type_plural: str, namespace: str, name: str) -> RepoPath:
    """For ``/api/{models|datasets}/{namespace}/{name}/...`` routes."""
    return RepoPath(repo_type_from_plural(type_plural), param(namespace), param(name))
