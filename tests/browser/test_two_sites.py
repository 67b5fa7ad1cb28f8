"""Two sites served by one deployment, in real Chromium: each host page gets its own site's
banner (policy, texts), its citizens' choices land in that site's log with that site's text,
its statistics count for it alone, and neither site's cookie reaches the other.

uppsala.se: pages at www.uppsala.test, the service at samtycke.uppsala.test, cookies on
.uppsala.test. knivsta.se: pages at www.knivsta.example.test, the same service reached as
samtycke.knivsta.example.test (as a municipality would point its own name at it), cookies on
.knivsta.example.test.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.sites import store
from tests.browser.conftest import (
    PAGE_HOST,
    SCREENSHOTS,
    HostSite,
    Service,
    Visit,
    ensure_bundle,
    start_service,
)
from tests.browser.test_analytics import DESKTOP_UA

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
KNIVSTA_PAGES = "www.knivsta.example.test"
KNIVSTA_SERVICE = "samtycke.knivsta.example.test"
KNIVSTA_TITLE = "Kakor på knivsta.se"


@pytest.fixture(scope="module")
def two_sites(
    host_site: HostSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, str, str]]:
    ensure_bundle()
    service = start_service(tmp_path_factory.mktemp("two-sites"), host_site.url)
    port = host_site.url.rsplit(":", 1)[1]
    knivsta_pages = f"http://{KNIVSTA_PAGES}:{port}"
    with service.app.app_context():
        document = store.document_of(service.app.extensions["sites"].file_policy)
        for language in document["languages"]:
            document["texts"][language]["title"] = KNIVSTA_TITLE
        store.add_site("knivsta.se", [knivsta_pages], cookie_domain=".knivsta.example.test",
                       policy=document, by="test")  # fmt: skip
    service_port = service.url.rsplit(":", 1)[1]
    host_site.services["uppsala"] = service.url
    host_site.services["knivsta"] = f"http://{KNIVSTA_SERVICE}:{service_port}"
    yield service, host_site.url, knivsta_pages
    service.stop()


def rows(service: Service, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(service.db_path)
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def wait_rows(service: Service, sql: str, count: int) -> list[tuple[Any, ...]]:
    """The rows once there are `count` (the sequencer integrates within a second)."""
    found: list[tuple[Any, ...]] = []
    for _ in range(100):
        found = rows(service, sql)
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


def accept_all(visit: Visit, pages: str, service_key: str, title: str) -> None:
    visit.requests.clear()
    visit.page.goto(f"{pages}/page?service={service_key}")
    visit.wait("window.Consent && !Array.isArray(window.Consent)")
    dialog = visit.dialog()
    assert dialog.locator("h2").inner_text() == title
    results = Axe().run(visit.page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    visit.screenshot(f"two-sites-{service_key}")
    dialog.get_by_role("button", name="Acceptera alla").click()
    visit.wait("window.consentEvents.length > 0")


def test_two_sites_keep_their_banners_citizens_and_statistics_apart(
    browser: Any, host_site: HostSite, two_sites: tuple[Service, str, str]
) -> None:
    service, uppsala_pages, knivsta_pages = two_sites
    # Headless Chromium names itself in its user agent, and bots are not counted.
    context = browser.new_context(user_agent=DESKTOP_UA)
    try:
        visit = Visit(context, host_site, service)
        accept_all(visit, uppsala_pages, "uppsala", "Kakor på uppsala.se")
        # The tracker sends its batch within two seconds (a beacon sent while a page goes
        # away would not carry the test's desktop user agent).
        assert len(wait_rows(service, "SELECT site FROM analytics_events", 1)) == 1
        seen: list[str] = []
        visit.page.on("request", lambda request: seen.append(request.url))
        accept_all(visit, knivsta_pages, "knivsta", KNIVSTA_TITLE)
        assert visit.errors == []
        # One consent cookie per site, each on its own site's domain.
        cookies = {(c["name"], c["domain"]) for c in context.cookies() if c["name"] == "consent"}
        assert cookies == {("consent", ".uppsala.test"), ("consent", ".knivsta.example.test")}
        entries = wait_rows(
            service, "SELECT site, policy_version, text_hash FROM consent_log_entries", 2
        )
        by_site = {site: (version, text_hash) for site, version, text_hash in entries}
        assert set(by_site) == {"uppsala.se", "knivsta.se"}
        assert by_site["knivsta.se"][0] == 1
        # Each entry points at its own site's archived text: the titles differ.
        texts = dict(rows(service, "SELECT site || ':' || version, content FROM policy_texts "
                                   "WHERE language = 'sv'"))  # fmt: skip
        assert KNIVSTA_TITLE in texts["knivsta.se:1"].encode().decode("unicode_escape")
        assert KNIVSTA_TITLE not in texts[f"uppsala.se:{service.version}"]
        # Statistics allowed on both: each page view counts for its own site and host.
        views = wait_rows(service, "SELECT site, host FROM analytics_events", 2)
        assert sorted(set(views)) == [("knivsta.se", KNIVSTA_PAGES), ("uppsala.se", PAGE_HOST)]
        # Knivsta's page loaded its banner and recorded its choice through its own name.
        # (A beacon of the Uppsala page, sent as it went away, may be among them.)
        own = [url for url in seen if "/embed/" in url or "/api/v1/consent" in url]
        assert len(own) >= 2 and all(KNIVSTA_SERVICE in url for url in own), own
    finally:
        context.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert (SCREENSHOTS / "two-sites-knivsta.png").exists()
