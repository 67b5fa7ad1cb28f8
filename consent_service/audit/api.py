"""The log's public endpoints (C2SP formats): checkpoint, verifier key, consistency proofs."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from consent_service.audit import tiles_api, transparency
from consent_service.db import db
from consent_service.web.errors import RETRY_AFTER_SECONDS, ApiError
from consent_service.web.openapi import UNAVAILABLE, error_response, json_response

bp = Blueprint("audit_log", __name__, url_prefix="/api/v1/log")

_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,17})$")
TEXT = "text/plain; charset=utf-8"


def _text(body: str, cache: str) -> Response:
    response = current_app.response_class(body, mimetype="text/plain")
    response.headers["Content-Type"] = TEXT
    response.headers["Cache-Control"] = cache
    return response


def _unsigned() -> ApiError:
    return ApiError(
        503,
        "log_not_signed",
        "The log has no signed checkpoint yet (or no signing key is configured).",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@bp.get("/checkpoint")
def checkpoint() -> Response:
    """The latest signed tree head, a C2SP signed note holding a tlog-checkpoint."""
    note = transparency.latest_note(db.session)
    if note is None:
        raise _unsigned()
    return _text(note, "no-store")


@bp.get("/key")
def key() -> Response:
    """The note verifier key that checkpoints and promises are signed with."""
    published = transparency.published_key()
    if published is None:
        raise _unsigned()
    # Exactly the key, no newline: note libraries parse the body as it is.
    return _text(published, "public, max-age=3600")


def _size(name: str) -> int:
    raw = request.args.get(name)
    if raw is None or not _DECIMAL.match(raw):
        raise ApiError(400, "invalid_value", f"{name} must be a tree size in decimal.")
    return int(raw)


@bp.get("/proof/consistency")
def consistency_proof() -> Response:
    """RFC 9162 §2.1.4 proof that the tree of `from` leaves is a prefix of that of `to`."""
    old, new = _size("from"), _size("to")
    size = transparency.tree_size(db.session)
    if not 1 <= old <= new:
        raise ApiError(400, "invalid_value", "from and to must satisfy 1 ≤ from ≤ to.")
    if new > size:
        raise ApiError(400, "invalid_value", f"to must not exceed the tree size ({size}).")
    response = jsonify({"proof": transparency.consistency(db.session, old, new)})
    response.headers["Cache-Control"] = "public, max-age=86400"  # never changes
    return response


# C2SP tlog-tiles (tiles_api.py): the tree and its entries as static, cacheable resources.
bp.add_url_rule("/tile/entries/<path:path>", view_func=tiles_api.entry_bundle)
bp.add_url_rule("/tile/<path:path>", view_func=tiles_api.tile)


_NOTE = {"text/plain": {"schema": {"type": "string"}}}
_SIZE = {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}

PATHS: dict[str, Any] = {
    "/api/v1/log/checkpoint": {
        "get": {
            "summary": "The latest signed checkpoint of the consent log (C2SP signed note)",
            "responses": {
                "200": {
                    "description": "Origin, tree size, base64 root, signatures",
                    "content": _NOTE,
                },
                "403": error_response("Origin not allowed"),
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/v1/log/key": {
        "get": {
            "summary": "The log's note verifier key (name+keyhash+base64 key)",
            "responses": {
                "200": {"description": "The verifier key", "content": _NOTE},
                "403": error_response("Origin not allowed"),
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/v1/log/proof/consistency": {
        "get": {
            "summary": "RFC 9162 consistency proof between two tree sizes",
            "parameters": [
                {"name": "from", "in": "query", "required": True, "schema": _SIZE},
                {"name": "to", "in": "query", "required": True, "schema": _SIZE},
            ],
            "responses": {
                "200": json_response(
                    {
                        "type": "object",
                        "required": ["proof"],
                        "properties": {"proof": {"type": "array", "items": {"type": "string"}}},
                    },
                    "Base64 hashes, RFC 9162 order",
                ),
                "400": error_response("Sizes missing, malformed or outside the tree"),
                "403": error_response("Origin not allowed"),
                "503": UNAVAILABLE,
            },
        }
    },
}
PATHS.update(tiles_api.PATHS)
