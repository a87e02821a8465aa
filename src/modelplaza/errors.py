"""Domain errors. Each carries the HTTP status and the Hugging Face error code it maps to;
the API turns them into responses in one exception handler."""

from __future__ import annotations


class PlazaError(Exception):
    status: int = 400
    code: str | None = None

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(PlazaError):
    status = 400


class InvalidName(BadRequest):
    pass


class InvalidPath(BadRequest):
    pass


class AuthenticationRequired(PlazaError):
    status = 401


class InvalidCredentials(PlazaError):
    # The exact message the Hugging Face client recognises as "bad token" rather than "no repo".
    status = 401

    def __init__(self) -> None:
        super().__init__("Invalid credentials in Authorization header")


class Forbidden(PlazaError):
    status = 403


class NotFound(PlazaError):
    status = 404


class RepoNotFound(NotFound):
    code = "RepoNotFound"


class JobNotFound(NotFound):
    code = "JobNotFound"


class RevisionNotFound(NotFound):
    code = "RevisionNotFound"


class EntryNotFound(NotFound):
    code = "EntryNotFound"

    def __init__(self, message: str, commit: str | None = None) -> None:
        super().__init__(message, commit=commit)
        self.commit = commit


class AccountNotFound(NotFound):
    pass


class AlreadyExists(PlazaError):
    status = 409


class Conflict(PlazaError):
    """The request does not fit the current state (a job that has already finished)."""

    status = 409


class CommitConflict(PlazaError):
    """The branch moved since the commit's parent was read."""

    status = 412


class PayloadTooLarge(PlazaError):
    status = 413


class RangeNotSatisfiable(PlazaError):
    status = 416

    def __init__(self, size: int) -> None:
        super().__init__("Requested range not satisfiable")
        self.size = size


class NotImplementedYet(PlazaError):
    status = 501
