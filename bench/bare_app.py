"""The baseline: a bare Flask JSON endpoint doing what every JSON API must (parse, answer)."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/bare")
    def bare() -> tuple[Response, int]:
        data = request.get_json()
        return jsonify({"received": len(data) if isinstance(data, dict | list) else 0}), 201

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return app
