"""Error pages for people: a 404 that says where to go instead, never a traceback. Every page
route answers its errors this way (``routing.PageRoute``)."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from modelplaza.errors import PlazaError
from modelplaza.http.errors import status_and_message
from modelplaza.web.templating import render

_TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def page_error(request: Request, exc: Exception) -> Response:
    status, message = status_and_message(request, exc)
    if isinstance(exc, HTTPException) and status == 404:
        message = "There is no page at this address."
    elif status == 500 and not isinstance(exc, PlazaError | HTTPException):
        message = "Something went wrong on our side; the plaza's log has the details."
    title = _TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status=status, status_code=status, title=title, message=message)
