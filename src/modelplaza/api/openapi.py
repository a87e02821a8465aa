"""The OpenAPI document's parts that FastAPI cannot infer (bodies the routers read themselves,
errors as the plaza answers them), and the ``/api/docs`` page served from the plaza's own copy
of Swagger UI, so that it works offline."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"
VENDOR = "/static/vendor"
SWAGGER = f"{VENDOR}/swagger-ui-5.35.0"
# The page runs no inline script (see http/headers.py): static/api-docs.js starts Swagger UI.
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{swagger}.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="{swagger}-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


class ErrorAnswer(BaseModel):
    """Every refusal: the message, also in the X-Error-Message header (with X-Error-Code, such
    as RepoNotFound, where the Hugging Face clients read one)."""

    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorAnswer, "description": description}
    for status, description in [
        (400, "Bad input, including a body or parameter of the wrong shape"),
        (401, "No credentials, or invalid ones"),
        (403, "Not allowed (a read-only token, or no write role)"),
        (404, "Not found, or private and not yours to see"),
    ]
}


def body(model: type[BaseModel], media_type: str = "application/json", description: str = "") -> dict:
    """``openapi_extra`` for a route that parses its body itself (its error messages are part of
    the API): the body's schema, with the models it nests written in place."""
    schema = model.model_json_schema(by_alias=True)
    request_body: dict[str, Any] = {
        "required": True,
        "content": {media_type: {"schema": _inline(schema, schema.pop("$defs", {}))}},
    }
    if description:
        request_body["description"] = description
    return {"requestBody": request_body}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def install(app: FastAPI) -> None:
    """The OpenAPI document, and ``/api/docs``: Swagger UI from ``web/static/vendor``."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _without_422(
                get_openapi(title=app.title, version=app.version, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    page = DOCS_PAGE.format(title=escape(f"{app.title} API"), swagger=SWAGGER, openapi_url=OPENAPI_URL)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)


def _without_422(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its validation errors as 422; the plaza answers them with 400 and the
    error body every other refusal has (ERRORS)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document
