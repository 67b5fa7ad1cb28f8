"""The OpenAPI description of the idea widget's API (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from consent_service.web.openapi import (
    ERROR,
    HTML,
    error_response,
    json_response,
)

IDEA_ERROR = {
    "allOf": [
        ERROR,
        {
            "type": "object",
            "properties": {
                "fields": {
                    "type": "object",
                    "description": "Field name → error code (the keys of the widget's texts)",
                    "additionalProperties": {"type": "string"},
                }
            },
        },
    ]
}

SCHEMAS: dict[str, Any] = {
    "IdeaForm": {
        "type": "object",
        "required": ["language", "areas", "limits", "form_token"],
        "properties": {
            "language": {"type": "string"},
            "dir": {"type": "string", "enum": ["ltr", "rtl"]},
            "areas": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label"],
                    "properties": {"id": {"type": "string"}, "label": {"type": "string"}},
                },
            },
            "limits": {
                "type": "object",
                "required": ["title", "body", "name", "email"],
                "properties": {
                    "title": {"const": 120},
                    "body": {"const": 4000},
                    "name": {"type": "integer"},
                    "email": {"type": "integer"},
                },
            },
            "texts": {"type": "object", "additionalProperties": {"type": "string"}},
            "variant": {
                "type": ["string", "null"],
                "description": "A text variant of the language, e.g. sv-lattlast (easy Swedish) "
                "for ?lang=sv-lattlast; else null",
            },
            "challenge": {
                "oneOf": [{"$ref": "#/components/schemas/IdeaChallenge"}, {"type": "null"}],
                "description": "The challenge asked for with ?challenge=, else null",
            },
            "form_token": {
                "type": "string",
                "description": "Signed time of issue; send it back as form_token",
            },
        },
    },
    "IdeaChallenge": {
        "type": "object",
        "required": ["slug", "lang", "question", "opens_on", "closes_on", "state", "open"],
        "properties": {
            "slug": {"type": "string"},
            "lang": {"type": "string", "description": "The language the texts are in"},
            "question": {"type": "string"},
            "background": {"type": "string"},
            "target_group": {"type": "string"},
            "opens_on": {"type": "string", "format": "date"},
            "closes_on": {"type": "string", "format": "date"},
            "state": {"type": "string", "enum": ["upcoming", "open", "closed"]},
            "open": {"type": "boolean"},
            "stage": {"type": "object"},
            "message": {"type": "string", "description": "Why it takes no ideas now"},
        },
    },
    "IdeaIn": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "body", "area"],
        "properties": {
            "title": {"type": "string", "description": "At most 120 characters once trimmed"},
            "body": {"type": "string", "description": "At most 4,000 characters once trimmed"},
            "area": {"type": "string", "maxLength": 64, "description": "An id from /form"},
            "topic": {"type": ["string", "null"]},
            "page": {"type": ["string", "null"], "description": "Sent from; query is dropped"},
            "name": {"type": ["string", "null"]},
            "email": {
                "type": ["string", "null"],
                "description": "One address local@domain.tld (no list or display name); "
                "stored only with contact_ok",
            },
            "contact_ok": {"type": ["boolean", "null"]},
            "challenge": {
                "type": ["string", "null"],
                "maxLength": 64,
                "description": "The challenge's slug (data-challenge); 400 unknown, 409 not open",
            },
            "language": {"type": ["string", "null"], "maxLength": 35},
            "form_token": {"type": ["string", "null"], "maxLength": 200},
            "website": {
                "type": ["string", "null"],
                "maxLength": 2000,
                "description": "Leave empty (a honeypot)",
            },
            "request_id": {
                "type": ["string", "null"],
                "pattern": "^[A-Za-z0-9_-]{8,64}$",
                "description": (
                    "A retry with the same id and the same title and body answers the idea "
                    "stored the first time; another text with it is 409"
                ),
            },
        },
    },
    "IdeaReceipt": {
        "type": "object",
        "required": ["reference", "status_url"],
        "properties": {
            "reference": {"type": "string", "pattern": "^IDE-[0-9]{4}-[0-9]{6,}$"},
            "status_url": {"type": "string", "format": "uri"},
        },
    },
    "IdeaStatus": {
        "type": "object",
        "required": ["reference", "title", "body", "area", "received_at", "stage", "messages"],
        "properties": {
            "reference": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "area": {"type": "object"},
            "received_at": {"type": "string", "format": "date-time"},
            "stage": {
                "type": "object",
                "required": ["id", "label", "explanation", "since"],
                "properties": {
                    "id": {"type": "string"},
                    "label": {"type": "string"},
                    "explanation": {"type": "string"},
                    "since": {"type": "string", "format": "date-time"},
                },
            },
            "messages": {"type": "array", "items": {"type": "object"}},
            "closed": {"type": ["object", "null"]},
            "merged_into": {"type": ["object", "null"]},
            "contact_on_file": {"type": "boolean"},
            "can_withdraw": {"type": "boolean"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/ideas/form": {
        "get": {
            "summary": "What the idea widget needs: areas, limits, texts, a form token",
            "parameters": [
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "sv or en, or sv-lattlast (easy Swedish texts); anything "
                    "else gives the default (sv)",
                    "schema": {"type": "string"},
                },
                {
                    "name": "challenge",
                    "in": "query",
                    "required": False,
                    "description": "A challenge's slug: its question comes with the form",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": json_response({"$ref": "#/components/schemas/IdeaForm"}, "The form"),
                "404": error_response("No challenge with that slug (challenge_unknown)"),
            },
        }
    },
    "/api/v1/ideas": {
        "post": {
            "summary": "Submit an idea",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/IdeaIn"}}
                },
            },
            "responses": {
                "201": json_response(
                    {"$ref": "#/components/schemas/IdeaReceipt"},
                    "Received (spam is kept in a separate queue and answered alike)",
                ),
                "400": json_response(IDEA_ERROR, "Malformed JSON, unknown fields, or broken rules"),
                "403": error_response("Origin not allowed"),
                "413": error_response("Body too large"),
                "409": error_response(
                    "request_id already used for an idea with another title or body, or the "
                    "challenge does not take ideas now (challenge_upcoming, challenge_closed)"
                ),
                "415": error_response("Not application/json"),
                "429": {
                    **error_response(
                        "Too many ideas (or retry-key look-ups) from this client; see Retry-After"
                    ),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
                "503": error_response("Database unavailable; retry with the same request_id"),
            },
        }
    },
    "/ideas/status/{token}": {
        "get": {
            "summary": "The citizen's private status link (JSON with Accept: application/json)",
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The idea as sent, its stage and public messages",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/IdeaStatus"}},
                        **HTML,
                    },
                },
                "404": {
                    "description": "No idea behind this link (forged or mistyped)",
                    "content": {"application/json": {"schema": ERROR}, **HTML},
                },
            },
        }
    },
}
