"""Domain errors become HTTP answers here, with the headers the Hugging Face client reads."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from modelplaza.api.deps import public_url
from modelplaza.errors import AlreadyExists, EntryNotFound, PlazaError, RangeNotSatisfiable

log = logging.getLogger("modelplaza")


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


async def plaza_error(request: Request, exc: PlazaError) -> JSONResponse:
    extra = {}
    if isinstance(exc, AlreadyExists) and "repo_id" in exc.extra:
        from modelplaza.api.hf.serialize import URL_PREFIX

        extra["url"] = f"{public_url(request)}/{URL_PREFIX[exc.extra['repo_type']]}{exc.extra['repo_id']}"
    response = error_response(exc.status, exc.message, exc.code, **extra)
    if isinstance(exc, EntryNotFound) and exc.commit:
        response.headers["X-Repo-Commit"] = exc.commit
    if isinstance(exc, RangeNotSatisfiable):
        response.headers["Content-Range"] = f"bytes */{exc.size}"
    return response


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()
    )
    return error_response(400, f"Invalid request: {details}")


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail))


async def data_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database refuses (PostgreSQL: NUL in text, a number out of range) is the
    # caller's mistake: a last line of defence behind the checks in the domain.
    log.info("refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
    return error_response(400, "Invalid request: a value contains a NUL character or is out of range")


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error; the plaza's log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(PlazaError, plaza_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(Exception, unexpected_error)
