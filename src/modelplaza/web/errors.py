"""Error pages for people: a 404 that says where to go instead, never a traceback. Every page
route answers its errors this way (``routing.PageRoute``); the pages' own scripts, which ask for
JSON, get the same message as ``{"error": ...}``."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from modelplaza.errors import PlazaError
from modelplaza.http.errors import status_and_message
from modelplaza.web.templating import render

_TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def wants_json(request: Request) -> bool:
    """Whether the caller is one of the pages' scripts (they send ``Accept: application/json``)."""
    return "application/json" in request.headers.get("accept", "")


def page_error(request: Request, exc: Exception) -> Response:
    status, message = status_and_message(request, exc)
    if isinstance(exc, HTTPException) and status == 404:
        message = "There is no page at this address."
    elif status == 500 and not isinstance(exc, PlazaError | HTTPException):
        message = "Something went wrong on our side; the plaza's log has the details."
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    title = _TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status=status, status_code=status, title=title, message=message)
