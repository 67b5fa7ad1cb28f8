"""The statistics API: `GET /api/v1/stats/aggregate` and `/breakdown`, read with a site's token.

Plausible's parameters and shapes. Read by scripts and servers with `Authorization: Bearer`;
no cookie is looked at. Every figure comes from figures.py, as the dashboard's do.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from consent_service.analytics import figures, tokens
from consent_service.analytics.reports import Period
from consent_service.analytics.visitors import local_day
from consent_service.db import utcnow
from consent_service.sites.services import all_sites
from consent_service.web.errors import ApiError

bp = Blueprint("analytics_stats", __name__, url_prefix="/api/v1/stats")

# The breakdowns of the public contract (the dashboard also uses source_kind, utm_content
# and utm_term).
PROPERTIES = ("page", "entry_page", "exit_page", "source", "utm_source", "utm_medium",
              "utm_campaign", "goal")  # fmt: skip
DEFAULT_PERIOD = "30d"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _authorised_site() -> str:
    """The site named by `site=`, after checking the bearer token may read it."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    token_site = tokens.site_of_token(credentials.strip()) if scheme.lower() == "bearer" else None
    if token_site is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send a valid read token: Authorization: Bearer TOKEN "
            "(consent-service analytics token create NAME --site DOMAIN).",
            headers={"WWW-Authenticate": 'Bearer realm="stats"'},
        )
    site = request.args.get("site", "").strip()
    if not site:
        raise ApiError(400, "invalid_parameter", "site is required: the site's domain name.")
    if site != token_site:
        raise ApiError(403, "forbidden", f"This token reads {token_site}, not {site[:100]}.")
    if site not in {served.domain for served in all_sites()}:
        raise ApiError(400, "invalid_parameter", f"Unknown site {site[:100]}.")
    return site


def _period() -> Period:
    return figures.parse_period(
        request.args.get("period", DEFAULT_PERIOD), request.args.get("date"), local_day(utcnow())
    )


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise figures.BadQuery(f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _answer(results: Any) -> Response:
    response = jsonify({"results": results})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/aggregate")
def aggregate() -> Response:
    site = _authorised_site()
    try:
        period = _period()
        metrics = figures.parse_metrics(request.args.get("metrics"))
    except figures.BadQuery as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    return _answer(figures.metric_values(figures.aggregate(site, period), metrics))


@bp.get("/breakdown")
def breakdown() -> Response:
    site = _authorised_site()
    try:
        prop = request.args.get("property", "")
        if prop not in PROPERTIES:
            raise figures.BadQuery(f"property must be one of: {', '.join(PROPERTIES)}.")
        period = _period()
        metrics = figures.parse_metrics(request.args.get("metrics"))
        limit = _number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        page = _number("page", 1, 1, 1_000_000)
    except figures.BadQuery as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    rows = figures.breakdown(site, prop, period, limit=limit, offset=(page - 1) * limit)
    return _answer(figures.breakdown_rows(prop, rows, metrics))
