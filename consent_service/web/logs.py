"""Request IDs and structured (JSON) logs without personal data.

Every request gets an ID: the one the proxy sent in `X-Request-ID` (nginx's `$request_id`)
when it looks like one, otherwise a new one. It is echoed in the response's `X-Request-ID`,
written by gunicorn's access log and attached to every log record made while the request
runs, so one ID finds a request in the proxy's, gunicorn's and the app's logs.

Logs never carry client addresses, user agents, cookies, query strings or consent IDs: the
service stores no IP addresses, and its logs are stored data too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators: what proxies generate (nginx: 32 hex digits, UUIDs).
# Anything else is replaced, so a client cannot write arbitrary text into the logs.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def request_id() -> str | None:
    """The current request's ID (None outside a request)."""
    if not has_request_context():
        return None
    rid: str | None = g.get("request_id")
    if rid is None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        rid = offered if VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.request_id = rid
    return rid


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _stamp_request_id() -> None:
    request_id()


def _echo_request_id(response: Response) -> Response:
    rid = request_id()
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    return response


def configure_logging(app: Flask) -> None:
    """JSON logs on stderr for the app's logger; a request ID on every request and response."""
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    # Under gunicorn (deploy/gunicorn.conf.py) the root logger writes JSON already: records
    # propagate there. Elsewhere (tests, scripts) the app's logger gets its own handler.
    root_writes_json = any(
        isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers
    )
    has_own = any(getattr(h, "consent_json", False) for h in app.logger.handlers)
    if not root_writes_json and not has_own:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.consent_json = True  # type: ignore[attr-defined]
        app.logger.addHandler(handler)
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.before_request(_stamp_request_id)
    app.after_request(_echo_request_id)
