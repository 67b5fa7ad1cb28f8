"""What browsers and crawlers ask every site for: `/robots.txt` and `/favicon.ico`."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, send_from_directory

bp = Blueprint("site_files", __name__)

# Staff pages also say noindex themselves (X-Robots-Tag, <meta>): robots.txt only asks, and
# a URL it disallows can still be listed when other pages link to it.
ROBOTS_TXT = "User-agent: *\nDisallow: /admin\n"
ONE_DAY = 86400


@bp.get("/robots.txt")
def robots_txt() -> Response:
    response = Response(ROBOTS_TXT, mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = ONE_DAY
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico whatever the page says; every current one draws SVG.
    static = current_app.static_folder
    assert static is not None
    return send_from_directory(static, "favicon.svg", mimetype="image/svg+xml", max_age=ONE_DAY)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
