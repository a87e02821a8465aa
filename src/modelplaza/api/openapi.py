"""The OpenAPI document's parts that FastAPI cannot infer: bodies the routers read themselves,
and the ``/api/docs`` page served from the plaza's own copy of Swagger UI (so it works offline)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"
VENDOR = "/static/vendor"


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


def install_docs(app: FastAPI) -> None:
    """``/api/docs``: Swagger UI from ``web/static/vendor``, never from a CDN."""

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} API",
            swagger_js_url=f"{VENDOR}/swagger-ui-5.35.0-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui-5.35.0.css",
            swagger_favicon_url="/static/favicon.svg",
            # No badge from the online validator: the page makes no request off the plaza.
            swagger_ui_parameters={"validatorUrl": None},
        )
