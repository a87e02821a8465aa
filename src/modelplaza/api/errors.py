"""Domain errors become HTTP answers here, with the headers the Hugging Face client reads."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelplaza.errors import AlreadyExists, EntryNotFound, PlazaError, RangeNotSatisfiable

log = logging.getLogger("modelplaza")


def error_response(status: int, message: str, code: str | None = None, **extra) -> JSONResponse:
    headers = {"X-Error-Message": " ".join(message.split())[:1000]}
    if code:
        headers["X-Error-Code"] = code
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


async def plaza_error(request: Request, exc: PlazaError) -> JSONResponse:
    extra = {}
    if isinstance(exc, AlreadyExists) and "repo" in exc.extra:
        from modelplaza.api.hf.serialize import repo_url

        extra["url"] = repo_url(request, exc.extra["repo"])
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


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error; the plaza's log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(PlazaError, plaza_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
