"""How large a request body each route takes, enforced before and while the body is read.

A route declares its kind of body with ``takes_body`` (small JSON or a form when it declares
none); ``LimitedBody`` enforces it for every route of both faces: a declared Content-Length over
the limit is answered 413 before a byte of the body is read, and a body that grows past the
limit as it streams (sent chunked, or longer than it said) is cut off with 413 at the first
byte too many. Routes that check who is calling do it before they read their bodies, so a
refused caller costs no more than its headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from modelplaza.config import Settings

SCOPE_KEY = "modelplaza.body_limit"
F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class BodyLimit:
    """A kind of body: ``what`` names it in the 413's message, ``size`` gives its largest size in
    bytes from the settings, ``setting`` names the setting that changes it (if one does)."""

    what: str
    size: Callable[[Settings], int]
    setting: str | None = None

    def message(self, limit: int) -> str:
        text = f"{self.what} may have at most {limit} bytes ({_readable(limit)})"
        return f"{text}; the plaza's {self.setting} setting sets this" if self.setting else text


# What every route takes unless it says otherwise: the API's JSON bodies, the pages' forms.
SMALL_BODY = BodyLimit("A request body", lambda s: s.max_body_size, "max_body_size")
# A README, sent as JSON or as a form field, however its characters are escaped.
CARD_BODY = BodyLimit("A model card request", lambda s: s.max_body_size + 3 * s.lfs_threshold)


class BodyTooLarge(HTTPException):
    """The body passed its route's limit. An HTTPException, so that it passes through the
    framework's own body reading (Body and Form parameters) and reaches the route's renderer."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


def takes_body(limit: BodyLimit) -> Callable[[F], F]:
    """Declare the kind of body a route's endpoint takes (put it below the route's decorator)."""

    def declare(endpoint: F) -> F:
        endpoint.body_limit = limit  # type: ignore[attr-defined]  # read by ``limit_of``
        return endpoint

    return declare


def limit_of(endpoint: Callable) -> BodyLimit:
    return getattr(endpoint, "body_limit", SMALL_BODY)


def tighten(request: Request, size: int, message: str) -> None:
    """Lower this request's limit to ``size`` bytes, which the handler has just learnt (the size
    an upload link was signed for), refused with ``message``: at once when the declared length
    is over it."""
    request.scope[SCOPE_KEY].tighten(size, message)


class LimitedBody:
    """The receive and send of one request, enforcing its body limit."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, kind: BodyLimit, settings: Settings
    ) -> None:
        self._receive, self._send = receive, send
        self.limit = kind.size(settings)
        self.explain: Callable[[int], str] = kind.message
        self.declared = _content_length(scope)
        self.received = 0
        self.tripped = self.answered = False
        scope[SCOPE_KEY] = self

    def refusal(self) -> BodyTooLarge | None:
        """The 413 due before reading, from the declared length alone."""
        if self.declared is not None and self.declared > self.limit:
            self.tripped = True
            return BodyTooLarge(self.explain(self.limit))
        return None

    def tighten(self, size: int, message: str) -> None:
        if size < self.limit:
            self.limit = size
            self.explain = lambda _: message
        if (refused := self.refusal()) is not None:
            raise refused

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and not self.answered:
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.tripped = True
                raise BodyTooLarge(self.explain(self.limit))
        # Once the answer is on its way, what is left of the body is only being drained.
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.answered = True
            if self.tripped:
                # The rest of the body was never read: the connection cannot carry another request.
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before the app sees it
    return None


def _readable(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"
