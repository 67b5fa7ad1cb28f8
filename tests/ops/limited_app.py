"""The service plus one rate-limited route, to prove the shared limiter across instances."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from consent_service import create_app as create_service
from consent_service import ratelimit
from consent_service.web.csrf import csrf

LIMIT = 10


def create_app() -> Flask:
    app = create_service()

    @app.post("/_test/limited")
    def limited() -> tuple[Response, int]:
        limit = ratelimit.hit("multi-instance-test", "one-client", LIMIT, 3600)
        return jsonify({"allowed": limit.allowed}), 200 if limit.allowed else 429

    csrf.exempt(limited)
    return app
