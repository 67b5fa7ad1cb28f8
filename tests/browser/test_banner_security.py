"""The banner under a strict nonce CSP: it starts only the gated scripts the page vouched for.

A gated script that an attacker injects into the page (a comment, a CMS field) must not run
because the banner re-creates it: the banner never lends its own nonce to a script that
lacks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.wrappers import Response

from tests.browser.conftest import HostSite, Visit

pytestmark = pytest.mark.browser

NONCE = "strict-n0nce-for-tests"


def counter(name: str) -> str:
    return f"window.ran=window.ran||{{}};window.ran.{name}=(window.ran.{name}||0)+1;"


@pytest.fixture
def strict_page(visit: Visit, host_site: HostSite, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Serve a page with `body` at www.uppsala.test/page?strict under a nonce CSP, open it."""
    service = visit.service.url
    body_of_page: list[str] = []
    page_of_site = host_site.page

    def page(query: dict[str, list[str]]) -> Response:
        if "strict" not in query:
            return page_of_site(query)
        html = f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uppsala kommun</title>
<script src="{service}/embed/consent.js" defer nonce="{NONCE}"></script>
</head>
<body>
<main><h1>Välkommen</h1>{body_of_page[-1]}</main>
<footer><button type="button" data-consent-open>Kakinställningar</button></footer>
</body>
</html>"""
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' 'nonce-{NONCE}' {service}; "
            f"style-src 'self' 'nonce-{NONCE}'; connect-src 'self' {service}; img-src 'self'"
        )
        return response

    monkeypatch.setattr(host_site, "page", page)

    def open_page(body: str) -> Any:
        body_of_page.append(body)
        return visit.goto(strict="1")

    return open_page


def test_injected_gated_scripts_never_run_with_the_pages_nonce(
    visit: Visit, strict_page: Callable[[str], Any]
) -> None:
    violations: list[str] = []
    visit.page.on(
        "console", lambda m: "Content Security Policy" in m.text and violations.append(m.text)
    )
    page = strict_page(
        # The page's own gated scripts: inline with the nonce, external from an allowed host.
        f'<script type="text/plain" data-consent="functional" nonce="{NONCE}">'
        f"{counter('own_inline')}</script>"
        '<script type="text/plain" data-consent="statistics" src="/js/own.js"></script>'
        # Injected into the page's content: no nonce, or a guessed one.
        f'<div class="comment"><script type="text/plain" data-consent="necessary">'
        f"{counter('injected_necessary')}</script>"
        f'<script type="text/plain" data-consent="functional">'
        f"{counter('injected_functional')}</script>"
        f'<script type="text/plain" data-consent="statistics" nonce="guess">'
        f"{counter('injected_guess')}</script></div>",
    )
    visit.dialog().wait_for()
    page.wait_for_timeout(200)
    assert visit.ran() == {}  # necessary scripts start at once, but not injected ones

    page.get_by_role("button", name="Acceptera alla").click()
    visit.wait("window.Consent.get()?.consent_id")
    visit.wait("window.ran?.own_inline === 1 && window.ran?.own_src === 1")
    page.wait_for_timeout(200)
    assert visit.ran() == {"own_inline": 1, "own_src": 1}
    # The injected scripts were not started at all, so the CSP had nothing to block.
    assert violations == []
    assert page.locator("script[data-consent]").count() == 3  # left as they were
