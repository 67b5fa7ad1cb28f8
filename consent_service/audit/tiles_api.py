"""The log's C2SP tlog-tiles endpoints: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.

Registered on the `audit_log` blueprint (`api.py`), so they sit beside the checkpoint under
the same prefix, `/api/v1/log`, as the specification expects of a tiled log.
"""

from __future__ import annotations

import gzip
from typing import Any

from flask import Flask, Response, current_app, request

from consent_service.admin.facts import Fact
from consent_service.audit import tiles
from consent_service.db import db
from consent_service.web.errors import ApiError
from consent_service.web.openapi import UNAVAILABLE, error_response

OCTETS = "application/octet-stream"
# A full tile or bundle never changes (the tree is append-only); a partial one never changes
# either, but a mirror should move on to the full tile, so it is cached briefly.
FULL_CACHE = "public, max-age=31536000, immutable"
PARTIAL_CACHE = "public, max-age=60"
NO_STORE = {"Cache-Control": "no-store"}


def _tile(path: str, *, entries: bool) -> tiles.Tile:
    try:
        return tiles.parse_path(path, entries=entries)
    except tiles.TilePathError as exc:
        raise ApiError(400, "invalid_tile_path", str(exc), NO_STORE) from exc


def _octets(body: bytes, tile: tiles.Tile) -> Response:
    response = current_app.response_class(body, mimetype=OCTETS)
    response.headers["Cache-Control"] = PARTIAL_CACHE if tile.partial else FULL_CACHE
    return response


def _read(read: Any, tile: tiles.Tile) -> bytes:
    try:
        body: bytes = read(db.session, tile)
    except tiles.TileMissing as exc:
        raise ApiError(exc.status, exc.code, exc.message, NO_STORE) from exc
    except tiles.TileDamaged as exc:
        raise ApiError(503, "log_damaged", str(exc), NO_STORE) from exc
    return body


def tile(path: str) -> Response:
    """A Merkle tree tile: the concatenated 32-byte hashes of one tile of the tree."""
    found = _tile(path, entries=False)
    return _octets(_read(tiles.read_tile, found), found)


def entry_bundle(path: str) -> Response:
    """An entry bundle: the leaves of one level-0 tile, each with a uint16 length."""
    if not current_app.config["LOG_PUBLIC_ENTRIES"]:
        raise ApiError(
            404,
            "entries_not_published",
            "This log does not publish its entries: they hold consent IDs. Its tiles, "
            "checkpoint and proofs are public; a citizen's receipt holds their own entries.",
            NO_STORE,
        )
    found = _tile(path, entries=True)
    body = _read(tiles.read_entry_bundle, found)
    response = _octets(body, found)
    response.vary.add("Accept-Encoding")
    if request.accept_encodings.quality("gzip") > 0:
        # The specification asks for compression at the HTTP layer; the records are JSON.
        response.set_data(gzip.compress(body, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def log_facts(app: Flask) -> list[Fact]:
    """For the admin's settings page: whether the log's entries are public."""
    published = app.config["LOG_PUBLIC_ENTRIES"]
    return [
        Fact(
            "Transparensloggens poster publiceras (CONSENT_LOG_PUBLIC_ENTRIES)",
            "ja, med samtyckes-id, för vem som helst att spegla"
            if published
            else "nej (bara hashvärden: brickor, kontrollpunkter och bevis)",
        )
    ]


_OCTETS = {OCTETS: {"schema": {"type": "string", "format": "binary"}}}
_LEVEL = {
    "name": "L",
    "in": "path",
    "required": True,
    "description": "Tile level, 0 to 63: level L holds hashes of subtrees of 256**L entries",
    "schema": {"type": "string", "pattern": "^(0|[1-9][0-9]?)$"},
}
_INDEX = {
    "name": "N",
    "in": "path",
    "required": True,
    "description": "Tile index in groups of three digits, all but the last prefixed with x "
    "(1234067 is x001/x234/067); the groups are separated by /",
    "schema": {"type": "string", "pattern": "^(x[0-9]{3}/)*[0-9]{3}$"},
}
_WIDTH = {
    "name": "W",
    "in": "path",
    "required": True,
    "description": "Width of a partial tile, 1 to 255",
    "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,2}$"},
}


def _operation(summary: str, ok: str, params: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": ok, "content": _OCTETS},
        "400": error_response("Not a tile path in the tlog-tiles encoding"),
        "403": error_response("Origin not allowed"),
        "404": error_response("Beyond the current tree" + "".join(extra)),
        "503": UNAVAILABLE,
    }
    if params[0]["name"] == "N":
        responses["410"] = error_response("An entry was removed under the retention decision")
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


_TILE = "A Merkle tree tile (C2SP tlog-tiles): 256 consecutive 32-byte hashes"
_PARTIAL_TILE = "A partial tile at the right edge of the tree: W hashes"
_BUNDLE = "An entry bundle (C2SP tlog-tiles): 256 entries, each a big-endian uint16 length "
_BUNDLE += "and the exact leaf bytes (canonical JSON)"
_NOT_PUBLISHED = ", or the deployment does not publish entries (CONSENT_LOG_PUBLIC_ENTRIES)"

PATHS: dict[str, Any] = {
    "/api/v1/log/tile/{L}/{N}": _operation(_TILE, "8,192 bytes", [_LEVEL, _INDEX]),
    "/api/v1/log/tile/{L}/{N}.p/{W}": _operation(
        _PARTIAL_TILE, "W hashes of 32 bytes", [_LEVEL, _INDEX, _WIDTH]
    ),
    "/api/v1/log/tile/entries/{N}": _operation(_BUNDLE, "The entries", [_INDEX], _NOT_PUBLISHED),
    "/api/v1/log/tile/entries/{N}.p/{W}": _operation(
        "A partial entry bundle at the right edge of the log: W entries",
        "The entries",
        [_INDEX, _WIDTH],
        _NOT_PUBLISHED,
    ),
}
