"""The kinds of job the plaza runs, each declared once by a module of its own: its name, how a
submitted spec is checked, the module its job process runs, and what the job pages show for it.

A kind also declares the repos a spec of its kind reads and the repo it writes (``repos``):
the job's token reaches those and nothing else (``auth.permissions``).

A kind's module builds a ``JobKind`` and passes it to ``register``; KIND_MODULES names those
modules, imported on the first look-up. Training (``modelplaza.train.kind``) is the first;
evaluation, optimisation and pipeline steps are each one more module and one more line there.

The runner is named by module rather than imported: it runs in the job's own process (perhaps
on another machine), which needs none of the checks' database and hub code, and the plaza's
process need not import what the job does (torch)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelplaza.auth.principal import JobRepos
from modelplaza.errors import BadRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from modelplaza.auth.principal import Principal
    from modelplaza.hub.content import Contents

KIND_MODULES = ("modelplaza.train.kind",)


@dataclass(frozen=True)
class Submission:
    """A checked spec, ready to queue: its parsed form, the text it came as, and the job's title."""

    spec: dict[str, Any]
    spec_text: str
    title: str


# Reads what the spec names (datasets, repos, rights) and raises a PlazaError saying what does
# not fit; it runs in a read transaction, before the short write that queues the job.
Check = Callable[["Session", "Contents", "Principal", str], Submission]
# The repos a checked spec names: those its job reads, and the one it writes (and whether it
# may create it). It reads the spec alone; a spec it cannot make sense of names no repo.
NamedRepos = Callable[[dict[str, Any]], JobRepos]


@dataclass(frozen=True)
class ResultLink:
    """Where a finished job's output is: ``label`` before a link to ``href`` showing ``text``."""

    label: str
    href: str
    text: str


def _nothing(_: dict[str, Any]) -> Any:
    return None


def _no_scores(_: dict[str, Any]) -> dict[str, float]:
    return {}


@dataclass(frozen=True)
class JobPage:
    """What the jobs list and a job's page show for a kind, beyond what every job has.

    ``template`` is the part of the job page between its progress line and its log (for
    training, the loss curves). ``total_epochs(spec)`` completes the progress line ("Epoch 3 /
    10"); ``scores(progress)`` are the figures in the page's sidebar; ``result_link(result)``
    points at what a succeeded job made."""

    spec_label: str
    template: str | None = None
    total_epochs: Callable[[dict[str, Any]], int | None] = _nothing
    scores: Callable[[dict[str, Any]], dict[str, float]] = _no_scores
    result_link: Callable[[dict[str, Any]], ResultLink | None] = _nothing


@dataclass(frozen=True)
class JobKind:
    name: str
    check: Check
    repos: NamedRepos
    runner: str  # the module whose run(context) -> result the job's process calls
    page: JobPage


UNKNOWN_KIND_PAGE = JobPage(spec_label="Spec")
_registry: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if _registry.get(kind.name, kind) is not kind:
        raise ValueError(f"Job kind {kind.name!r} is registered twice")
    _registry[kind.name] = kind
    return kind


def _loaded() -> dict[str, JobKind]:
    for module in KIND_MODULES:
        importlib.import_module(module)
    return _registry


def get(name: str) -> JobKind:
    """The kind called ``name``; BadRequest naming the kinds there are otherwise."""
    kinds = _loaded()
    if name not in kinds:
        raise BadRequest(f"Unknown job kind {name!r}: choose one of {', '.join(kinds)}")
    return kinds[name]


def page(name: str) -> JobPage:
    """What the pages show for jobs of kind ``name``; the bare minimum for a kind this plaza no
    longer knows (a job queued by another version of it)."""
    kind = _loaded().get(name)
    return kind.page if kind is not None else UNKNOWN_KIND_PAGE


def repos_of(name: str, spec: dict[str, Any]) -> JobRepos:
    """What a job of kind ``name`` with ``spec`` reads and writes: no repo at all for a kind
    this plaza no longer knows."""
    kind = _loaded().get(name)
    return kind.repos(spec) if kind is not None else JobRepos()


def runners() -> dict[str, str]:
    """Each kind's runner module, by kind: what a job process imports before it gets its job."""
    return {name: kind.runner for name, kind in _loaded().items()}
