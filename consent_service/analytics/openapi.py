"""The OpenAPI description of `POST /api/v1/events` and the statistics API (/api/v1/stats)."""

from __future__ import annotations

from typing import Any

from consent_service.analytics.figures import METRICS, PERIODS
from consent_service.analytics.services import (
    MAX_EVENTS_PER_BATCH,
    MAX_PROP_NUMBER,
    MAX_PROP_VALUE,
    MAX_PROPS,
    SCREENS,
)
from consent_service.analytics.stats_api import DEFAULT_LIMIT, MAX_LIMIT, PROPERTIES
from consent_service.web.openapi import error_response, json_response

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


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> Any:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}  # fmt: skip


STATS_PARAMETERS = [
    _query("site", "The site's domain name, e.g. uppsala.se.", {"type": "string"}, required=True),
    _query(
        "period",
        "day: the day of `date`; 7d and 30d: the days ending with `date`; custom: "
        "date=FIRST,LAST. Days of the analytics time zone; `date` defaults to today.",
        {"type": "string", "enum": list(PERIODS), "default": "30d"},
    ),
    _query("date", "YYYY-MM-DD, or YYYY-MM-DD,YYYY-MM-DD with period=custom.", {"type": "string"}),
    _query(
        "metrics",
        "Comma-separated. visitors: one visitor hash on one day, summed over days; visits: "
        "runs of events without a 30-minute gap; bounce_rate: percent of visits with one "
        "page view and no custom event; visit_duration: mean seconds between a visit's "
        "first and last event.",
        {"type": "string", "default": "visitors"},
    ),
]
METRIC_VALUES = {name: {"type": "number" if name == "views_per_visit" else "integer"}
                 for name in METRICS}  # fmt: skip
STATS_ERRORS = {
    "400": error_response("A parameter is missing or wrong; the message says which"),
    "401": error_response("No valid read token (Authorization: Bearer TOKEN)"),
    "403": error_response("The token reads another site, or a foreign Origin"),
    "503": error_response("Database unavailable"),
}
STATS_SECURITY: list[dict[str, list[str]]] = [{"readToken": []}]

PATHS["/api/v1/stats/aggregate"] = {
    "get": {
        "summary": "A site's figures over a period (Plausible's definitions)",
        "description": "Today's figures are live: an event counts as soon as it is stored. "
        "For scripts and servers: send the read token; no cookie is used, and browsers on "
        "other origins are refused.",
        "security": STATS_SECURITY,
        "parameters": STATS_PARAMETERS,
        "responses": {
            "200": json_response(
                {
                    "type": "object",
                    "required": ["results"],
                    "properties": {"results": {"type": "object", "properties": METRIC_VALUES}},
                },
                "The metrics asked for",
            ),
            **STATS_ERRORS,
        },
    }
}
PATHS["/api/v1/stats/breakdown"] = {
    "get": {
        "summary": "A site's figures per value of a property, most visitors first",
        "description": "page: the visits that viewed the page (pageviews: views of it); "
        "entry_page/exit_page: a visit's first/last page view; source: the first page "
        "view's referrer (a search engine or social network by name, another site by host), "
        "else utm_source, else 'Direct / None'; utm_*: the first page view's campaign; goal: "
        "the visits with a custom event of that name.",
        "security": STATS_SECURITY,
        "parameters": [
            STATS_PARAMETERS[0],
            _query(
                "property",
                "What to break the figures down by.",
                {"type": "string", "enum": list(PROPERTIES)},
                required=True,
            ),
            *STATS_PARAMETERS[1:],
            _query(
                "limit",
                "Rows per page.",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            ),
            _query(
                "page", "Page of rows, from 1.", {"type": "integer", "minimum": 1, "default": 1}
            ),
        ],
        "responses": {
            "200": json_response(
                {
                    "type": "object",
                    "required": ["results"],
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "description": "The property's value under its name; the metrics.",
                                "properties": METRIC_VALUES,
                            },
                        }
                    },
                },
                "One object per value",
            ),
            **STATS_ERRORS,
        },
    }
}
SCHEMES = {
    "readToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "consent-service analytics token create NAME --site DOMAIN",
    }
}
