"""The consent service: cookie consent with a verifiable log, for municipal websites."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from consent_service import (
    admin,
    analytics,
    audit,
    cli,
    consent,
    demo,
    embed,
    health,
    ideas,
    metrics,
    ratelimit,
    scanner,
    sites,
    web,
)
from consent_service.config import load_settings
from consent_service.db import db
from consent_service.web import formatting, openapi
from consent_service.web.csrf import csrf
from consent_service.web.logs import configure_logging


class Domain(Protocol):
    def init_app(self, app: Flask) -> None: ...


# In layer order (docs/architecture.md): each may use the ones before it, never after.
DOMAINS: tuple[Domain, ...] = (admin, audit, consent, analytics, ideas, scanner, embed, demo)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → plumbing → every domain's `init_app`. Touches no database.

    Settings come from the `CONSENT_*` environment. Tests pass `test_config` instead: its
    `ENVIRON` (and `SECRET_KEY`) stand in for the environment, in `testing` mode, and every
    other key overrides the loaded settings, as in Flask's tutorial.
    """
    app = Flask(__name__, instance_relative_config=True)
    if test_config is None:
        app.config.update(load_settings(Path(app.instance_path)))
    else:
        overrides = dict(test_config)
        environ = {
            "CONSENT_ENV": "testing",
            "CONSENT_SECRET_KEY": overrides.get("SECRET_KEY", ""),
            **overrides.pop("ENVIRON", {}),
        }
        app.config.update(load_settings(Path(app.instance_path), environ))
        app.config.from_mapping(overrides)

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    # Before any other hook (CSRF, origins) that may refuse a request: refused requests get
    # a request ID and are counted and timed too.
    configure_logging(app)
    metrics.init_app(app)
    db.init_app(app)
    # The request's site is resolved before CSRF and the Origin checks: they use its origins.
    sites.init_app(app)
    csrf.init_app(app)
    web.init_app(app)
    formatting.init_app(app)
    ratelimit.init_app(app)
    health.init_app(app)
    openapi.init_app(app)
    cli.init_app(app)

    for domain in DOMAINS:
        domain.init_app(app)
    return app
