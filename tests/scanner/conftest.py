"""A municipal site that misbehaves on purpose, a tracker on another site, the real service.

The host pages are served at http://www.uppsala.test:PORT, the tracker at
http://tracker.example.test:PORT2 and the consent service (its real banner, cookie domain
`.uppsala.test`) at http://samtycke.uppsala.test:PORT3, all on 127.0.0.1 through Chromium's
host resolver rules: first and third parties are really different sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import (
    POLICY,
    ServerThread,
    Service,
    ensure_bundle,
    start_service,
)
from tests.helpers.browser import chromium_or_skip

RESOLVER_RULES = "--host-resolver-rules=MAP *.uppsala.test 127.0.0.1, MAP *.example.test 127.0.0.1"
# The site's declarations for these tests: the gated scripts set exactly these.
DECLARATIONS = """
[[cookies]]
name = "consent"
category = "necessary"
provider = "uppsala.se"
purpose = { sv = "Sparar ditt val om kakor.", en = "Stores your cookie choice." }
lifetime = { sv = "12 månader", en = "12 months" }

[[cookies]]
name = "uppsala_prefs"
category = "functional"
provider = "uppsala.se"
purpose = { sv = "Kommer ihåg inställningar.", en = "Remembers settings." }
lifetime = { sv = "6 månader", en = "6 months" }

[[cookies]]
name = "_pk_id.*"
category = "statistics"
provider = "uppsala.se (Matomo)"
purpose = { sv = "Skiljer besök åt.", en = "Tells visits apart." }
lifetime = { sv = "13 månader", en = "13 months" }

[[cookies]]
name = "_pk_ses.*"
category = "statistics"
provider = "uppsala.se (Matomo)"
purpose = { sv = "Håller ihop ett besök.", en = "Groups one visit." }
lifetime = { sv = "30 minuter", en = "30 minutes" }
"""
SCRIPTS = {
    # Ungated: a tracker that writes before any choice.
    "tracker": 'document.cookie = "_pk_ses.1.abcd=1; path=/; max-age=1800";'
    'localStorage.setItem("_hjid", "x");',
    # Gated by the banner (type="text/plain" data-consent="statistics").
    "stats": 'document.cookie = "_pk_id.1.abcd=1; path=/; max-age=33696000";'
    'document.cookie = "_pk_ses.1.abcd=1; path=/; max-age=1800";',
}


@dataclass
class Tracker:
    """Another site: a pixel, and a page no scan may follow a link to."""

    requests: list[str] = field(default_factory=list)
    thread: ServerThread | None = None

    @property
    def url(self) -> str:
        assert self.thread is not None
        return f"http://tracker.example.test:{self.thread.port}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append(request.path)
        if request.path == "/pixel.gif":
            gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
            response = Response(gif, mimetype="image/gif")
        else:
            response = Response("<!doctype html><title>Elsewhere</title>", mimetype="text/html")
        return response(environ, start_response)


@dataclass
class MunicipalSite:
    """Host pages: /bad/ breaks the rules, /clean/ follows them."""

    tracker: Tracker
    service_url: str = ""
    requests: list[str] = field(default_factory=list)
    thread: ServerThread | None = None

    @property
    def url(self) -> str:
        assert self.thread is not None
        return f"http://www.uppsala.test:{self.thread.port}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append(f"{request.method} {request.path}")
        path = request.path
        if path == "/robots.txt":
            response = Response("User-agent: *\nDisallow: /private/\n", mimetype="text/plain")
        elif path == "/sitemap.xml":
            # A sitemap index, as large sites publish: the pages are in the sitemap it names.
            response = Response(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{self.url}/sitemap-pages.xml</loc></sitemap></sitemapindex>",
                mimetype="application/xml",
            )
        elif path == "/sitemap-pages.xml":
            response = Response(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{self.url}/bad/second</loc></url>"
                f"<url><loc>{self.url}/bad/listed</loc></url></urlset>",
                mimetype="application/xml",
            )
        elif path.startswith("/js/"):
            name = path.removeprefix("/js/").removesuffix(".js")
            response = Response(SCRIPTS.get(name, ""), mimetype="text/javascript")
        elif path in {"/bad/", "/bad/second", "/bad/listed"}:
            response = Response(self.bad_page(path), mimetype="text/html")
            if path == "/bad/":
                # An undeclared first-party cookie, set by the page's own response.
                response.headers["Set-Cookie"] = "_ga=GA1.1.42.42; Path=/; Max-Age=63072000"
        elif path == "/clean/":
            response = Response(self.clean_page(), mimetype="text/html")
        else:
            response = Response("not found", status=404)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def head(self, title: str) -> str:
        return (
            f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{title}</title>'
            f'<script src="{self.service_url}/embed/consent.js" defer></script>'
        )

    def bad_page(self, path: str) -> str:
        links = (
            '<a href="/bad/second">Nästa</a> <a href="/private/page">Intern</a> '
            f'<a href="{self.tracker.url}/offsite">Annan webbplats</a> '
            '<a href="/rapport.pdf">PDF</a> <a href="#main">Hit</a>'
        )
        return (
            self.head("Otillåten sida")
            + '<script src="/js/tracker.js"></script>'
            + '<script type="text/plain" data-consent="statistics" src="/js/stats.js"></script>'
            + '</head><body><main id="main"><h1>Sidan</h1>'
            + f'<img src="{self.tracker.url}/pixel.gif" alt="">'
            + (links if path == "/bad/" else "")
            + '<form action="/submitted" method="post"><button>Skicka</button></form>'
            + "</main></body></html>"
        )

    def clean_page(self) -> str:
        functional = 'document.cookie = "uppsala_prefs=1; path=/; max-age=15552000";'
        return (
            self.head("Välskött sida")
            + '<script type="text/plain" data-consent="statistics" src="/js/stats.js"></script>'
            + f'<script type="text/plain" data-consent="functional">{functional}</script>'
            + '</head><body><main id="main"><h1>Sidan</h1><p>Text.</p></main></body></html>'
        )


def scan_policy(tmp: Path) -> Path:
    """The packaged policy with these tests' declarations."""
    text = POLICY.read_text(encoding="utf-8")
    path = tmp / "policy.toml"
    path.write_text(text[: text.index("[[cookies]]")] + DECLARATIONS, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="session")
def municipal_site() -> Iterator[MunicipalSite]:
    tracker = Tracker()
    tracker.thread = ServerThread(tracker)
    site = MunicipalSite(tracker)
    site.thread = ServerThread(site)
    yield site
    site.thread.stop()
    tracker.thread.stop()


@pytest.fixture(scope="session")
def scan_service(
    chromium: str, municipal_site: MunicipalSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The real service, whose app also runs the `scan` command with the site's policy."""
    ensure_bundle()
    tmp = tmp_path_factory.mktemp("scan-service")
    service = start_service(tmp, municipal_site.url, scan_policy(tmp))
    service.app.config["CHROMIUM_PATH"] = chromium
    service.app.config["SCANNER_CHROMIUM_ARGS"] = [RESOLVER_RULES]
    municipal_site.service_url = service.url
    yield service
    service.stop()


def run_scan(service: Service, *args: str) -> Result:
    return service.app.test_cli_runner().invoke(args=["scan", *args])
