"""Error pages for people: a 404 that says where to go instead, never a traceback. API clients
(anything not asking for HTML, and every ``/api`` or ``/cas`` path) keep their JSON answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from modelplaza.api import errors as api_errors
from modelplaza.http.threads import in_thread
from modelplaza.web.templating import render

log = logging.getLogger("modelplaza")
_TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/cas/")) or "/resolve/" in request.url.path:
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str) -> Response:
    title = _TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status=status, status_code=status, title=title, message=message)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if wants_html(request):
        message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        return await in_thread(error_page, request, exc.status_code, message)
    return await api_errors.http_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if wants_html(request):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = "Something went wrong on our side; the plaza's log has the details."
        return await in_thread(error_page, request, 500, message)
    return await api_errors.unexpected_error(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
