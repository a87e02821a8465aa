"""Executors: how the worker loop has a job's process run. The worker claims a job, issues its
token and asks its executor to ``start`` it; then, on each look, it stores the job's new
``output`` lines, ``poll``s whether it has ended, and ``cancel``s (then, after a grace period,
``kill``s) a job that was cancelled. It records every ending itself, from the ``Exit`` that
``poll`` returns, and knows a job only by its id.

``local.LocalProcessExecutor`` runs each job as a process on this host; a cluster executor
(Ray Jobs: submit, status, stop, logs) is one more implementation of ``Executor``. Whether a
worker is alive is told by the heartbeats it writes to the queue, never by its executor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass


class CouldNotStart(Exception):
    """The executor could not start the job (say, no process could be created); the message
    says why and becomes the failed job's."""


@dataclass(frozen=True)
class Exit:
    """How a job's process ended: ``clean`` when it exited on its own with success, and
    ``description`` in words that follow "The job ", such as "exited with code 1"."""

    clean: bool
    description: str


class Executor(ABC):
    """Runs job processes: each is ``python -m modelplaza.jobs.runner`` (or the same, elsewhere),
    given the plaza's endpoint, the job's id and its token."""

    @abstractmethod
    def start(self, job_id: int, token: str) -> None:
        """Start the job's process; CouldNotStart if it cannot be."""

    @abstractmethod
    def poll(self, job_id: int) -> Exit | None:
        """None while the job runs; once it has ended, how. After an Exit, ``output`` holds the
        rest of what the job printed, and ``release`` lets the executor forget the job."""

    @abstractmethod
    def output(self, job_id: int) -> list[str]:
        """The lines the job printed since the last call."""

    @abstractmethod
    def cancel(self, job_id: int) -> None:
        """Ask the job to stop (it stops at its next step); asking again does nothing more."""

    @abstractmethod
    def kill(self, job_id: int) -> None:
        """Stop the job now."""

    @abstractmethod
    def release(self, job_id: int) -> None:
        """Forget an ended job."""

    def keep_ready(self, job_may_start_soon: Callable[[], bool]) -> None:  # noqa: B027
        """Called on every look: a chance to prepare for the next job (the local executor keeps
        a process started ahead) while ``job_may_start_soon()``. Nothing by default."""

    def close(self) -> None:  # noqa: B027
        """The worker is stopping (it stops its jobs itself, one by one): let go of anything
        kept ready."""
