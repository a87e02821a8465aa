"""Errors become HTTP answers here, rendered by the kind of route that met them.

Each face declares its route class: the API's answers JSON with the headers the Hugging Face
client reads (``json_error``), the pages' answers an HTML page. A route answers its own errors;
what fails before any route is chosen (no such address, a refused URL) goes to the fallback the
app names in ``install``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from modelplaza.errors import AlreadyExists, EntryNotFound, PlazaError, RangeNotSatisfiable
from modelplaza.http.context import URL_PREFIX, get_plaza, public_url
from modelplaza.http.limits import LimitedBody, limit_of
from modelplaza.http.threads import in_thread

log = logging.getLogger("modelplaza")
ErrorRenderer = Callable[[Request, Exception], Response]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _header_value(message: str) -> str:
    # Header values must be printable ASCII: a NUL or a non-Latin name in the message would
    # otherwise make the server drop the connection. The JSON body keeps the exact text; a
    # message of several lines (one per problem) becomes one with the lines joined by "; ".
    text = "; ".join(" ".join(line.split()) for line in message.splitlines() if line.strip())
    return "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode() for c in text)[:1000]


def error_response(status: int, message: str, code: str | None = None, **extra) -> JSONResponse:
    headers = {"X-Error-Message": _header_value(message)}
    if code:
        headers["X-Error-Code"] = code
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def status_and_message(request: Request, exc: Exception) -> tuple[int, str]:
    """What any face tells the caller about an error; unexpected ones are logged here."""
    if isinstance(exc, PlazaError):
        return exc.status, exc.message
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, RequestValidationError):
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return 400, f"Invalid request: {details}"
    if isinstance(exc, DataError):
        # A value the database refuses (PostgreSQL: NUL in text, a number out of range) is the
        # caller's mistake: a last line of defence behind the checks in the domain.
        log.info("refused a value on %s: %s", _where(request), exc.orig)
        return 400, "Invalid request: a value contains a NUL character or is out of range"
    log.exception("unexpected error on %s", _where(request), exc_info=exc)
    return 500, "Internal server error; the plaza's log has the details"


def _where(request: Request) -> str:
    """The method and the route's pattern, for the log: the address itself may hold a
    credential (an upload link is one), and the database's errors name no values either
    (``db.session``)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', None) or request.url.path}"


def json_error(request: Request, exc: Exception) -> Response:
    """The API's answer: ``{"error": ...}`` with X-Error-Message (and X-Error-Code when the
    domain names one), plus the headers some errors carry for the client."""
    status, message = status_and_message(request, exc)
    if not isinstance(exc, PlazaError):
        return error_response(status, message)
    extra = {}
    if isinstance(exc, AlreadyExists) and "repo_id" in exc.extra:
        extra["url"] = (
            f"{public_url(request)}/{URL_PREFIX[str(exc.extra['repo_type'])]}{exc.extra['repo_id']}"
        )
    response = error_response(status, message, exc.code, **extra)
    if isinstance(exc, EntryNotFound) and exc.commit:
        response.headers["X-Repo-Commit"] = exc.commit
    if isinstance(exc, RangeNotSatisfiable):
        response.headers["Content-Range"] = f"bytes */{exc.size}"
    return response


class RenderingRoute(APIRoute):
    """A route that answers its own errors (each face's route class says how) and holds its
    request's body to the limit its endpoint declares (``modelplaza.http.limits``)."""

    def render_error(self, request: Request, exc: Exception) -> Response:
        raise NotImplementedError

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = get_plaza(Request(scope)).settings
        body = LimitedBody(scope, receive, send, limit_of(self.endpoint), settings)
        refused = body.refusal()
        if refused is None:
            await super().handle(scope, body.receive, body.send)
            return
        response = await in_thread(self.render_error, Request(scope, receive), refused)
        await response(scope, body.receive, body.send)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        render = self.render_error

        async def answering_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                # A page's renderer reads the session and a template: off the loop.
                return await in_thread(render, request, exc)

        return answering_errors


def install(app: FastAPI, fallback: ErrorRenderer) -> None:
    """Errors met outside a route's handler (no route at this address, a method the route does
    not take, a refused URL): the chosen route's renderer when there is one, else ``fallback``."""

    async def answer(request: Request, exc: Exception) -> Response:
        route = request.scope.get("route")
        render = route.render_error if isinstance(route, RenderingRoute) else fallback
        return await in_thread(render, request, exc)

    for kind in (PlazaError, RequestValidationError, HTTPException, DataError, Exception):
        app.add_exception_handler(kind, answer)
