"""Real servers and headless Chromium for the banner's browser tests.

Two hosts of one site, as in production: the consent service at
http://samtycke.uppsala.test:PORT and a municipal page at http://www.uppsala.test:PORT2,
both on 127.0.0.1 through Chromium's host resolver rules. One browser per session, one fresh
context (no cookies, no storage) per test.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from werkzeug.wrappers import Request, Response

from tests.helpers.servers import ServerThread

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "consent_service" / "static" / "embed" / "consent.js"
POLICY = ROOT / "consent_service" / "policy" / "uppsala.toml"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVICE_HOST = "samtycke.uppsala.test"
PAGE_HOST = "www.uppsala.test"
KEY = "browser-tests-signing-key-0123456789abcdef"
# Cookies that the gated test scripts set; the policy declares them in these categories.
SCRIPT_COOKIES = {"functional": ("uppsala_prefs",), "statistics": ("_pk_id", "_pk_ses")}


# --- servers -------------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    db_path: Path
    version: int
    thread: ServerThread
    app: Any

    @property
    def api(self) -> str:
        return self.url + "/api/v1"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """A request straight to the service, outside the browser."""
        conn = http.client.HTTPConnection("127.0.0.1", self.thread.port, timeout=10)
        try:
            all_headers = {"Host": self.url.removeprefix("http://"), **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def log(self) -> list[dict[str, Any]]:
        """The consent log, oldest first."""
        conn = sqlite3.connect(self.db_path)
        try:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT consent_id, action, functional, statistics, policy_version, language,"
                " source, request_id FROM consent_log_entries ORDER BY seq"
            ).fetchall()
        finally:
            conn.close()
        return [dict(r) for r in rows]

    def stop(self) -> None:
        self.thread.stop()
        self.app.extensions["consent_db"].dispose()


def ensure_bundle() -> None:
    """Build the banner when it has not been built (CI builds it before the tests)."""
    if BUNDLE.exists() and BUNDLE.with_name("consent-page.js").exists():
        return
    widget = ROOT / "widget"
    if not (widget / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=widget, check=True)
    subprocess.run(["node", "build.mjs"], cwd=widget, check=True)


def start_service(
    tmp: Path, page_origin: str, policy_file: Path | None = None, **overrides: Any
) -> Service:
    """The consent service on loopback for pages at `page_origin`; `overrides` add settings."""
    from consent_service import create_app
    from consent_service.schema import upgrade_database

    tmp.mkdir(parents=True, exist_ok=True)
    db_path = tmp / "consent.sqlite3"
    config: dict[str, Any] = {
        "CONSENT_MODE": "testing",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "ALLOWED_ORIGINS": [page_origin],
        "COOKIE_DOMAIN": ".uppsala.test",
        "COOKIE_SECURE": False,
        "SECRET_KEY": KEY,
        "SIGNING_KEYS": [KEY],
        "WTF_CSRF_SECRET_KEY": [KEY],
    }
    if policy_file is not None:
        config["POLICY_FILE"] = str(policy_file)
    config.update(overrides)
    app = create_app(config)
    upgrade_database(app)
    thread = ServerThread(app)
    version = app.extensions["sites"].file_policy.version
    return Service(f"http://{SERVICE_HOST}:{thread.port}", db_path, version, thread, app)


@dataclass
class HostSite:
    """The municipality's pages. `/page?...` builds a test page that embeds the banner."""

    services: dict[str, str] = field(default_factory=dict)
    thread: ServerThread | None = None

    @property
    def url(self) -> str:
        assert self.thread is not None
        return f"http://{PAGE_HOST}:{self.thread.port}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path.startswith("/js/"):
            # A gated external script: counts its runs in window.ran.
            name = request.path.removeprefix("/js/").removesuffix(".js")
            key = json.dumps(name + "_src")
            body = f"window.ran=window.ran||{{}};window.ran[{key}]=(window.ran[{key}]||0)+1;"
            response = Response(body, mimetype="text/javascript")
        elif request.path == "/favicon.ico":
            response = Response(status=204)
        elif request.path == "/page":
            response = self.page(parse_qs(request.query_string.decode()))
        else:
            response = Response("not found", status=404)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def page(self, query: dict[str, list[str]]) -> Response:
        lang = query.get("lang", ["sv"])[0]
        service = self.services[query.get("service", ["v1"])[0]]
        csp = "csp" in query
        nonce = "n0nce-for-tests" if csp else ""
        nonce_attr = f' nonce="{nonce}"' if csp else ""
        lang_attr = f' lang="{lang}"' if lang else ""
        # A host stylesheet that themes the banner and, carelessly, everything else.
        style = (
            f"<style{nonce_attr}>consent-banner {{ --consent-accent: #5c0f2e; }}"
            " body { text-align: center; letter-spacing: 0.2em; color: #333; line-height: 3 }"
            " p { margin: 3em } button { text-transform: uppercase }</style>"
            if "theme" in query
            else ""
        )

        def gated(category: str) -> str:
            counter = (
                f"window.ran=window.ran||{{}};window.ran.{category}=(window.ran.{category}||0)+1;"
            )
            # Like the real scripts: set the category's declared cookies, on the host and on
            # the whole site.
            for name in SCRIPT_COOKIES.get(category, ()):
                counter += f'document.cookie="{name}=1;path=/";'
                counter += f'document.cookie="{name}=2;path=/;domain=.uppsala.test";'
            attrs = f'type="text/plain" data-consent="{category}"{nonce_attr}'
            return (
                f"<script {attrs}>{counter}</script>\n"
                f'<script {attrs} src="/js/{category}.js"></script>\n'
            )

        html = f"""<!doctype html>
<html{lang_attr}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uppsala kommun</title>
<script{nonce_attr}>
window.consentEvents = [];
document.addEventListener("consent:change", (e) => window.consentEvents.push(e.detail));
</script>
{gated("necessary")}{gated("functional")}{gated("statistics")}
<script type="text/plain" data-consent="functional" data-type="module"{nonce_attr}>
window.ran.functional_module = (window.ran.functional_module || 0) + 1;
</script>
{style}
<script src="{service}/embed/consent.js" defer{nonce_attr}></script>
</head>
<body>
<header><a href="#main">Till innehållet</a></header>
<main id="main">
<h1>Välkommen till Uppsala kommun</h1>
<p>Här hittar du information om kommunens service.</p>
<p><a href="/page?lang={lang}">En länk</a></p>
</main>
<footer>
<a href="{service}/consent?next=/page" data-consent-open>Kakinställningar</a>
<button type="button" data-consent-withdraw>Återkalla samtycke till kakor</button>
</footer>
</body>
</html>"""
        response = Response(html, mimetype="text/html")
        if csp:
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'self' 'nonce-{nonce}' {service}; "
                f"style-src 'self' 'nonce-{nonce}'; connect-src 'self' {service}; img-src 'self'"
            )
        return response


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    site.thread = ServerThread(site)
    yield site
    site.thread.stop()


@pytest.fixture(scope="session")
def service(host_site: HostSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    ensure_bundle()
    svc = start_service(tmp_path_factory.mktemp("service"), host_site.url)
    host_site.services["v1"] = svc.url
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def service_v2(
    service: Service, host_site: HostSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The same site after the policy was raised to the next version (same signing key)."""
    tmp = tmp_path_factory.mktemp("service-v2")
    policy = tmp / "policy.toml"
    text = POLICY.read_text(encoding="utf-8")
    assert f"\nversion = {service.version}\n" in text
    policy.write_text(
        text.replace(f"\nversion = {service.version}\n", f"\nversion = {service.version + 1}\n"),
        encoding="utf-8",
    )
    svc = start_service(tmp, host_site.url, policy)
    host_site.services["v2"] = svc.url
    yield svc
    svc.stop()


def policy_with_rtl_language(text: str) -> str:
    """The policy plus a third language, "ar", written right to left (English words, so the
    tests can find them): nothing in the banner may assume two languages or LTR."""
    start = text.index("[texts.en]")
    end = text.index("[[cookies]]")
    english = text[start:end]
    arabic = (
        english.replace("[texts.en", "[texts.ar")
        .replace('dir = "ltr"', 'dir = "rtl"')
        .replace('title = "Cookies on uppsala.se"', 'title = "RTL cookies on uppsala.se"')
    )
    text = text[:end] + arabic + text[end:]
    text = text.replace('languages = ["sv", "en"]', 'languages = ["sv", "en", "ar"]')
    # Every cookie's purpose and lifetime in the new language too.
    return re.sub(r'(en = ("[^"]*")) }', r"\1, ar = \2 }", text)


@pytest.fixture(scope="session")
def service_rtl(
    service: Service, host_site: HostSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("service-rtl")
    policy = tmp / "policy.toml"
    policy.write_text(policy_with_rtl_language(POLICY.read_text(encoding="utf-8")), "utf-8")
    svc = start_service(tmp, host_site.url, policy)
    host_site.services["rtl"] = svc.url
    yield svc
    svc.stop()


# --- browser -------------------------------------------------------------------------------


class Visit:
    """One citizen: a fresh browser context and page, with the requests to the service."""

    def __init__(self, context: Any, site: HostSite, service: Service) -> None:
        self.context = context
        self.site = site
        self.service = service
        self.page = context.new_page()
        self.page.set_default_timeout(5000)
        self.requests: list[Any] = []
        self.errors: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

    def _on_request(self, request: Any) -> None:
        if SERVICE_HOST in request.url:
            self.requests.append(request)

    def url(self, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.site.url}/page" + (f"?{query}" if query else "")

    def goto(self, **params: str) -> Any:
        self.requests.clear()
        self.page.goto(self.url(**params))
        self.wait("window.Consent && !Array.isArray(window.Consent)")
        return self.page

    def wait(self, expression: str, timeout: float = 5.0) -> Any:
        """Poll a JS expression until truthy. Unlike wait_for_function, needs no eval: works
        under a strict CSP."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.03)

    def service_calls(self) -> list[str]:
        """`METHOD path` of every request to the service since the last goto."""
        return [
            f"{r.method} {r.url.split(SERVICE_HOST, 1)[1].split('/', 1)[1]}" for r in self.requests
        ]

    def cookie(self, name: str = "consent") -> str | None:
        for c in self.context.cookies():
            if c["name"] == name:
                return str(c["value"])
        return None

    def payload(self) -> dict[str, Any] | None:
        value = self.cookie()
        if value is None:
            return None
        part = value.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    def dialog(self) -> Any:
        return self.page.locator("consent-banner dialog")

    def settle(self) -> None:
        """Wait until an open banner has finished its opening animation."""
        self.page.evaluate(
            """() => { const d = document.querySelector('consent-banner')?.shadowRoot
                .querySelector('dialog');
              return d && Promise.all(d.getAnimations().map(a => a.finished)) }"""
        )

    def events(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.consentEvents")  # type: ignore[no-any-return]

    def ran(self) -> dict[str, int]:
        return self.page.evaluate("window.ran || {}")  # type: ignore[no-any-return]

    def screenshot(self, name: str) -> None:
        self.settle()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def visit_factory(
    browser: Any, host_site: HostSite, service: Service
) -> Iterator[Callable[..., Visit]]:
    contexts: list[Any] = []

    def make(**context_options: Any) -> Visit:
        context = browser.new_context(**context_options)
        contexts.append(context)
        return Visit(context, host_site, service)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def visit(visit_factory: Callable[..., Visit]) -> Visit:
    return visit_factory()
