"""The OpenAPI description of `POST /api/v1/events` (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from consent_service.analytics.services import (
    MAX_EVENTS_PER_BATCH,
    MAX_PROP_NUMBER,
    MAX_PROP_VALUE,
    MAX_PROPS,
    SCREENS,
)
from consent_service.web.openapi import error_response

EVENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "path"],
    "properties": {
        "type": {"type": "string", "enum": ["pageview", "event"]},
        "path": {"type": "string", "maxLength": 2048, "description": "Starts with one '/'."},
        "referrer": {"type": "string", "maxLength": 2048, "description": "http(s) URL"},
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                 "description": "Required for type event."},
        "props": {"type": "object", "maxProperties": MAX_PROPS,
                  "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,32}$"},
                  "additionalProperties": {"anyOf": [
                      {"type": "string", "maxLength": MAX_PROP_VALUE},
                      {"type": "number", "minimum": -MAX_PROP_NUMBER,
                       "maximum": MAX_PROP_NUMBER},
                      {"type": "boolean"},
                  ]}},
        "screen": {"type": "string", "enum": list(SCREENS)},
    },
}  # fmt: skip

BATCH = {
    "type": "object",
    "additionalProperties": False,
    "required": ["events"],
    "properties": {"events": {"type": "array", "maxItems": MAX_EVENTS_PER_BATCH, "items": EVENT}},
}

PATHS: dict[str, Any] = {
    "/api/v1/events": {
        "post": {
            "summary": "Record analytics events; stored only with a valid statistics consent",
            "description": "Sent by the banner's tracker with sendBeacon as text/plain. Events "
            "are stored only when the request carries a validly signed, unexpired `consent` "
            "cookie granting statistics under the current policy version; otherwise nothing is "
            "stored and `stored` is 0. Invalid events are rejected one by one.",
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": BATCH}, "application/json": {"schema": BATCH}},
            },
            "responses": {
                "202": {
                    "description": "Accepted",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["stored"],
                                "properties": {
                                    "stored": {"type": "integer"},
                                    "dropped": {"type": "integer"},
                                    "reason": {
                                        "type": "string",
                                        "enum": [
                                            "no_consent",
                                            "old_policy",
                                            "no_statistics",
                                            "unknown_host",
                                            "bot",
                                            "visitor_cap",
                                        ],
                                    },
                                    "rejected": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "index": {"type": "integer"},
                                                "error": {"type": "string"},
                                                "message": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "400": error_response("Malformed body, unknown fields or more than 100 events"),
                "403": error_response("Origin not allowed"),
                "413": error_response("Body too large"),
                "415": error_response("Not text/plain or application/json"),
                "429": error_response(
                    "Too many events per minute from this client address or consent "
                    "(Retry-After); nothing of the batch is stored"
                ),
                "503": error_response("Database unavailable"),
            },
        }
    }
}
