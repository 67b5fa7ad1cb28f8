"""The OpenAPI 3.1 description of the public JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from consent_service.analytics import openapi as analytics_openapi

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}
# Any text without NUL: json_input refuses NUL in every string field.
NO_NUL = "^[^\\u0000]*$"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


CHOICES = {
    "type": "object",
    "required": ["functional", "statistics"],
    "additionalProperties": False,
    "properties": {"functional": {"type": "boolean"}, "statistics": {"type": "boolean"}},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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

IDEA_SCHEMAS: dict[str, Any] = {
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
            "form_token": {
                "type": "string",
                "description": "Signed time of issue; send it back as form_token",
            },
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
            "email": {"type": ["string", "null"], "description": "Stored only with contact_ok"},
            "contact_ok": {"type": ["boolean", "null"]},
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
                "description": "A retry with the same id answers the idea stored the first time",
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

HTML = {"text/html": {"schema": {"type": "string"}}}

IDEA_PATHS: dict[str, Any] = {
    "/api/v1/ideas/form": {
        "get": {
            "summary": "What the idea widget needs: areas, limits, texts, a form token",
            "parameters": [
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "sv or en; anything else gives the default (sv)",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/IdeaForm"}, "The form"),
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
                "201": _json(
                    {"$ref": "#/components/schemas/IdeaReceipt"},
                    "Received (spam is kept in a separate queue and answered alike)",
                ),
                "400": _json(IDEA_ERROR, "Malformed JSON, unknown fields, or broken rules"),
                "403": _error("Origin not allowed"),
                "413": _error("Body too large"),
                "415": _error("Not application/json"),
                "429": {
                    **_error("Too many ideas from this client; see Retry-After"),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
                "503": _error("Database unavailable; retry with the same request_id"),
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

# The signed choice cookie that GET and DELETE read (and POST, to keep the consent ID).
CONSENT_COOKIE = {
    "name": "consent",
    "in": "cookie",
    "required": False,
    "description": "The signed choice cookie set by POST; anything else counts as no cookie.",
    "schema": {"type": "string"},
}
GPC_HEADER = {
    "name": "Sec-GPC",
    "in": "header",
    "required": False,
    "description": "Global Privacy Control: with 1, the banner's Accept all keeps statistics off.",
    "schema": {"type": "string"},
}
UNAVAILABLE = {
    "description": "Database unavailable; retry after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}},
    "content": {"application/json": {"schema": ERROR}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Consent service",
        "version": "1",
        "description": "Cookie consent with a tamper-evident log. Every error is "
        '`{"error": code, "message": text}`.',
    },
    "paths": {
        "/api/v1/policy": {
            "get": {
                "summary": "The current cookie policy",
                "responses": {
                    "200": {
                        "description": "Policy version, categories, texts per language, cookies",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["version", "categories", "texts", "cookies"],
                                    "properties": {
                                        "version": {"type": "integer"},
                                        "categories": {"type": "array"},
                                        "texts": {"type": "object"},
                                        "cookies": {"type": "array"},
                                    },
                                }
                            }
                        },
                    },
                    "403": _error("Origin not allowed"),
                },
            }
        },
        "/api/v1/consent": {
            "post": {
                "summary": "Record a choice",
                "parameters": [CONSENT_COOKIE, GPC_HEADER],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ChoiceIn"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "Recorded (or a retry of the same request_id)",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Decision"}
                            }
                        },
                    },
                    "400": _error("Malformed JSON, unknown fields or wrong types"),
                    "403": _error("Origin not allowed"),
                    "409": _error("The choice answers an older policy version"),
                    "413": _error("Body too large"),
                    "415": _error("Not application/json"),
                    "503": {
                        **UNAVAILABLE,
                        "description": "Database unavailable; retry after Retry-After seconds "
                        "with the same request_id",
                    },
                },
            },
            "get": {
                "summary": "The choice in the consent cookie",
                "parameters": [CONSENT_COOKIE],
                "responses": {
                    "200": {
                        "description": "Current choice",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["consent_id", "choices", "policy_version"],
                                    "properties": {
                                        "consent_id": {"type": "string"},
                                        "choices": CHOICES,
                                        "policy_version": {"type": "integer"},
                                        "current": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "403": _error("Origin not allowed"),
                    "404": _error("No valid consent cookie"),
                },
            },
            "delete": {
                "summary": "Withdraw consent (appended to the log; cookie cleared)",
                "parameters": [
                    CONSENT_COOKIE,
                    {
                        "name": "source",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["banner", "settings", "api"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Withdrawn",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["consent_id", "action"],
                                    "properties": {
                                        "consent_id": {"type": "string"},
                                        "action": {"const": "withdraw"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Invalid source"),
                    "403": _error("Origin not allowed"),
                    "404": _error("No valid consent cookie"),
                    "503": UNAVAILABLE,
                },
            },
        },
        **IDEA_PATHS,
        "/api/v1/consent/receipt": {
            "get": {
                "summary": "The citizen's consent receipt for the consent ID in their cookie",
                "description": "Every logged entry for this consent ID: what was chosen, when "
                "(UTC), the policy version and the SHA-256 of the exact text shown, and the "
                "entry's hash in the consent-log chain, with the latest signed checkpoint.",
                "responses": {
                    "200": {
                        "description": "The receipt",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}
                        },
                    },
                    "404": _error("No valid consent cookie"),
                },
            }
        },
    },
    "components": {
        "schemas": {
            **IDEA_SCHEMAS,
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "ChoiceIn": {
                "type": "object",
                "additionalProperties": False,
                "required": ["functional", "statistics", "policy_version", "language", "source"],
                "properties": {
                    "functional": {"type": "boolean"},
                    "statistics": {"type": "boolean"},
                    "policy_version": {"type": "integer"},
                    # An unknown language gets the policy's default.
                    "language": {"type": "string", "maxLength": 35, "pattern": NO_NUL},
                    "source": {"type": "string", "enum": ["banner", "settings", "api"]},
                    "request_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
                },
            },
            "Receipt": {
                "type": "object",
                "required": ["consent_id", "entries", "checkpoint"],
                "properties": {
                    "consent_id": {"type": "string"},
                    "entries": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "seq",
                                "action",
                                "choices",
                                "policy_version",
                                "language",
                                "text_hash",
                                "occurred_at",
                                "source",
                                "hash",
                            ],
                            "properties": {
                                "seq": {"type": "integer"},
                                "action": {"enum": ["grant", "update", "withdraw"]},
                                "choices": CHOICES,
                                "policy_version": {"type": "integer"},
                                "language": {"type": "string"},
                                "text_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                "occurred_at": {"type": "string", "format": "date-time"},
                                "source": {"type": "string"},
                                "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            },
                        },
                    },
                    "checkpoint": {
                        "description": "The latest signed checkpoint, or null",
                        "type": ["object", "null"],
                    },
                },
            },
            "Decision": {
                "type": "object",
                "required": ["consent_id", "choices", "policy_version", "expires_at"],
                "properties": {
                    "consent_id": {"type": "string"},
                    "choices": CHOICES,
                    "policy_version": {"type": "integer"},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
        }
    },
}


DOCUMENT["paths"].update(analytics_openapi.PATHS)


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    return jsonify(DOCUMENT)


def init_app(app: Flask) -> None:
    """Register `/api/v1/openapi.json`."""
    app.register_blueprint(bp)
