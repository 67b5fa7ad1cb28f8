"""The OpenAPI description of the consent API (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from consent_service.audit.models import API_SOURCES, REQUEST_ID, Action, Source
from consent_service.web.openapi import (
    NO_NUL,
    UNAVAILABLE,
    error_response,
)

# The values the API takes and gives, from the log's own vocabulary (audit/models.py).
SOURCE = {"type": "string", "enum": [str(s) for s in API_SOURCES]}
ACTION = {"type": "string", "enum": [str(a) for a in Action]}
REQUEST_ID_FIELD = {"type": "string", "pattern": REQUEST_ID.pattern}

CHOICES = {
    "type": "object",
    "required": ["functional", "statistics"],
    "additionalProperties": False,
    "properties": {"functional": {"type": "boolean"}, "statistics": {"type": "boolean"}},
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

PATHS: dict[str, Any] = {
    "/api/v1/policy": {
        "get": {
            "summary": "The current cookie policy",
            "description": "The published policy of the site named by `site`, else of the site "
            "whose exact origin the request's Origin is, else of the deployment's default site.",
            "parameters": [
                {
                    "name": "site",
                    "in": "query",
                    "required": False,
                    "description": "The site's domain name, e.g. uppsala.se.",
                    "schema": {"type": "string", "maxLength": 64},
                }
            ],
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
                "403": error_response("Origin not allowed"),
                "404": error_response("This service does not serve the named site"),
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
                        "application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}
                    },
                },
                "400": error_response("Malformed JSON, unknown fields or wrong types"),
                "403": error_response("Origin not allowed"),
                "409": error_response(
                    "The choice answers an older policy version (policy_outdated), or the "
                    "request_id was used by another consent or request (request_id_conflict)"
                ),
                "413": error_response("Body too large"),
                "415": error_response("Not application/json"),
                "429": error_response("Too many retries with known request IDs (Retry-After)"),
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
                "403": error_response("Origin not allowed"),
                "404": error_response("No valid consent cookie"),
            },
        },
        "delete": {
            "summary": "Withdraw consent (appended to the log; cookie cleared)",
            "description": "The optional body says what the citizen was shown, so that the log "
            "records that language's text (without one: Accept-Language), and gives a retry key: "
            "a retry with the same request_id and the same consent cookie logs nothing new and "
            "answers the same.",
            "parameters": [
                CONSENT_COOKIE,
                {
                    "name": "source",
                    "in": "query",
                    "required": False,
                    "description": "The same as the body's source (kept for older clients); "
                    "the body wins.",
                    "schema": SOURCE,
                },
            ],
            "requestBody": {
                "required": False,
                "content": {
                    media: {"schema": {"$ref": "#/components/schemas/WithdrawIn"}}
                    for media in ("application/json", "text/plain")
                },
            },
            "responses": {
                "200": {
                    "description": "Withdrawn",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["consent_id", "action", "receipt"],
                                "properties": {
                                    "consent_id": {"type": "string"},
                                    "action": {"const": "withdraw"},
                                    "receipt": {"$ref": "#/components/schemas/Receipt"},
                                },
                            }
                        }
                    },
                },
                "400": error_response("Malformed JSON, unknown fields, wrong types or values"),
                "403": error_response("Origin not allowed"),
                "404": error_response("No valid consent cookie"),
                "409": error_response(
                    "The request_id was used by another consent or another kind of request"
                ),
                "413": error_response("Body too large"),
                "415": error_response("Neither application/json nor text/plain"),
                "429": error_response("Too many retries with known request IDs (Retry-After)"),
                "503": UNAVAILABLE,
            },
        },
    },
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
                "404": error_response("No valid consent cookie"),
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {
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
            "source": SOURCE,
            "request_id": REQUEST_ID_FIELD,
        },
    },
    "WithdrawIn": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            # The language the banner showed; an unknown one gets the policy's default.
            "language": {"type": "string", "maxLength": 35, "pattern": NO_NUL},
            "source": SOURCE,
            "request_id": REQUEST_ID_FIELD,
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
                        "leaf_index",
                        "leaf",
                        "action",
                        "choices",
                        "policy_version",
                        "language",
                        "text_hash",
                        "occurred_at",
                        "source",
                    ],
                    "properties": {
                        "leaf_index": {
                            "description": "Position in the log's Merkle tree; null while pending",
                            "type": ["integer", "null"],
                        },
                        "leaf": {
                            "description": "Base64 of the exact bytes whose RFC 9162 leaf hash "
                            "SHA-256(0x00 ‖ leaf) is in the tree (canonical JSON)",
                            "type": "string",
                        },
                        "inclusion_proof": {
                            "description": "RFC 9162 audit path (base64) to the checkpoint",
                            "type": "array",
                            "items": {"type": "string"},
                        },
                        "promise": {
                            "description": "For an entry not yet in the signed tree: a C2SP "
                            "signed note (origin, 'promise', base64 leaf hash, acknowledgement "
                            "time, maximum delay in seconds)",
                            "type": ["string", "null"],
                        },
                        "seq": {"type": "integer"},
                        "action": ACTION,
                        "choices": CHOICES,
                        "policy_version": {"type": "integer"},
                        "language": {"type": "string"},
                        "text_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "occurred_at": {"type": "string", "format": "date-time"},
                        "source": {"type": "string", "enum": [str(s) for s in Source]},
                        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
            },
            "checkpoint": {
                "description": "The latest signed checkpoint (C2SP signed note), or null",
                "type": ["string", "null"],
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
