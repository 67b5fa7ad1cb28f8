"""The OpenAPI 3.1 description of the public JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


CHOICES = {
    "type": "object",
    "required": ["functional", "statistics"],
    "additionalProperties": False,
    "properties": {"functional": {"type": "boolean"}, "statistics": {"type": "boolean"}},
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
                    }
                },
            }
        },
        "/api/v1/consent": {
            "post": {
                "summary": "Record a choice",
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
                    "503": _error("Database unavailable; retry with the same request_id"),
                },
            },
            "get": {
                "summary": "The choice in the consent cookie",
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
                    "404": _error("No valid consent cookie"),
                },
            },
            "delete": {
                "summary": "Withdraw consent (appended to the log; cookie cleared)",
                "parameters": [
                    {
                        "name": "source",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["banner", "settings", "api"]},
                    }
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
                    "404": _error("No valid consent cookie"),
                },
            },
        },
    },
    "components": {
        "schemas": {
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
                    "language": {"type": "string", "maxLength": 35},
                    "source": {"type": "string", "enum": ["banner", "settings", "api"]},
                    "request_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
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


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    return jsonify(DOCUMENT)
