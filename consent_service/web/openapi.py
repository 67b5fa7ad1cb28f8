"""The OpenAPI 3.1 document at /api/v1/openapi.json, assembled from every domain's part.

Each domain describes its own operations (`<domain>/openapi.py`) and adds them in its
`init_app` with `add_openapi`; the shared pieces (the error shape, 503) live here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}
# Any text without NUL: json_input refuses NUL in every string field.
NO_NUL = "^[^\\u0000]*$"
HTML = {"text/html": {"schema": {"type": "string"}}}
UNAVAILABLE = {
    "description": "Database unavailable; retry after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}},
    "content": {"application/json": {"schema": ERROR}},
}


def error_response(description: str) -> dict[str, Any]:
    """A response with the `{"error", "message"}` body every JSON error has."""
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _base_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Consent service",
            "version": "1",
            "description": "Cookie consent with a tamper-evident log. Every error is "
            '`{"error": code, "message": text}`.',
        },
        "paths": {},
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    }


def add_openapi(
    app: Flask,
    paths: dict[str, Any],
    schemas: dict[str, Any] | None = None,
    security_schemes: dict[str, Any] | None = None,
) -> None:
    """Add a domain's operations (and component schemas, security schemes) to the document."""
    document: dict[str, Any] = app.extensions.setdefault("openapi_document", _base_document())
    document["paths"].update(paths)
    document["components"]["schemas"].update(schemas or {})
    if security_schemes:
        document["components"].setdefault("securitySchemes", {}).update(security_schemes)


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    return jsonify(current_app.extensions.get("openapi_document", _base_document()))


def init_app(app: Flask) -> None:
    """Register `/api/v1/openapi.json`."""
    app.register_blueprint(bp)
