"""The crawl: same-site pages in headless Chromium, each visited twice in a fresh profile.

The first visit makes no choice; the second clicks this service's "accept all" button. Both
record every cookie in the jar, every storage key and every request. Nothing here decides
what is wrong (that is `services.build_report`), and nothing here submits a form or follows
a link off the site.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
import urllib.robotparser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from consent_service.scanner.services import (
    CookieSeen,
    Observations,
    Phase,
    RequestSeen,
    StorageArea,
    StorageSeen,
    Visit,
    same_site,
    site_of,
)

# robots.txt rules addressed to this name apply to the scanner, then those for `*`.
ROBOTS_AGENT = "consent-service-scanner"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
# Links to these are files, not pages: a scan loads pages only.
_NOT_PAGES = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|zip|gz|jpe?g|png|gif|svg|webp|mp[34]|mov|avi|ics|xml"
    r"|txt|csv|json|js|css)$",
    re.IGNORECASE,
)
_SITEMAP_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)
_BANNER = "consent-banner dialog[open]"
_CHOICE_CONFIRMED = """() => {
  try { return localStorage.getItem("consent_pending") === null; } catch (e) { return true; }
}"""

# Runs before any page script in every frame: notes which script wrote which cookie or
# storage key (the first http(s) frame of the stack), kept out of the page's own view as a
# non-enumerable property. Writes that bypass these setters (`localStorage.x = 1`) are still
# recorded, only without their source.
INSTRUMENT = r"""
(() => {
  const KEY = "__consentScannerLog";
  if (Object.prototype.hasOwnProperty.call(window, KEY)) return;
  const log = [];
  Object.defineProperty(window, KEY, { value: log, enumerable: false });
  // The stack below our two frames (this function and the setter): the writer's script, or
  // for an inline script that another one inserted, the inserting script.
  const source = () => {
    const lines = String(new Error().stack || "").split("\n").slice(3);
    for (const [i, line] of lines.entries()) {
      const m = line.match(/(https?:\/\/[^\s()]+?):\d+:\d+\)?\s*$/);
      if (m) return (i ? "inserted by " : "") + m[1];
    }
    return null;
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      enumerable: cookie.enumerable,
      get() { return cookie.get.call(this); },
      set(value) {
        try {
          const name = String(value).split(";")[0].split("=")[0].trim();
          log.push({ kind: "cookie", name, source: source() });
        } catch (e) {}
        cookie.set.call(this, value);
      },
    });
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    try {
      const area = this === window.localStorage ? "localStorage" : "sessionStorage";
      log.push({ kind: area, name: String(key), source: source() });
    } catch (e) {}
    return setItem.call(this, key, value);
  };
})();
"""
_READ_STORAGE = """() => {
  const keys = (s) => { try { return Object.keys(s); } catch (e) { return []; } };
  let local = [], session = [];
  try { local = keys(window.localStorage); } catch (e) {}
  try { session = keys(window.sessionStorage); } catch (e) {}
  return { origin: location.origin, local, session,
           log: window.__consentScannerLog || [] };
}"""


class ScanError(RuntimeError):
    """The site could not be scanned at all (exit status 2)."""


@dataclass(frozen=True)
class Limits:
    """How far and how fast a scan goes. Polite by default: two pages at a time."""

    pages: int = 20
    concurrency: int = 2
    total_seconds: float = 600.0
    navigation_seconds: float = 30.0
    # After load, wait this long for the network to go quiet (late trackers), at most.
    settle_seconds: float = 5.0
    # ... where quiet means no request open for this long.
    quiet_seconds: float = 0.5
    banner_seconds: float = 5.0
    # A robots.txt Crawl-delay longer than this is capped (the page limit bounds the total).
    max_crawl_delay: float = 10.0
    screenshots: int = 3


@dataclass
class BrowserSettings:
    executable_path: str
    extra_args: Sequence[str] = ()
    # The banner's "accept all" labels in every language of the policy.
    accept_labels: Sequence[str] = ()


@dataclass
class _Robots:
    parsers: dict[str, urllib.robotparser.RobotFileParser | None] = field(default_factory=dict)

    def allows(self, url: str) -> bool:
        parser = self.parsers.get(_origin(url))
        return parser is None or parser.can_fetch(ROBOTS_AGENT, url)


class _Network:
    """Requests a browser profile has open, and when the last one started or ended."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.last_change = time.monotonic()

    def started(self, request: Any) -> None:
        self.open.add(id(request))
        self.last_change = time.monotonic()

    def ended(self, request: Any) -> None:
        self.open.discard(id(request))
        self.last_change = time.monotonic()

    def quiet_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last_change


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def normalise(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without fragment, or None for anything that is not a page."""
    try:
        absolute = urldefrag(urljoin(base, url) if base else url).url
        parts = urlsplit(absolute)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return None
    except ValueError:  # a malformed address on a page, e.g. "http://[oops/"
        return None
    if _NOT_PAGES.search(parts.path):
        return None
    return urlunsplit(parts._replace(path=parts.path or "/"))


def pages_to_scan(
    start: str,
    links: Sequence[str],
    sitemap: Sequence[str],
    limit: int,
    allowed: Callable[[str], bool],
) -> tuple[list[str], list[str]]:
    """The start page, then its same-site links, then the sitemap's, up to the limit.

    Returns the pages and the ones robots.txt excluded.
    """
    site = site_of(urlsplit(start).hostname or "")
    pages, excluded = [start], []
    for raw in [*links, *sitemap]:
        url = normalise(raw, start)
        if url is None or not same_site(url, site) or url in pages or url in excluded:
            continue
        if not allowed(url):
            excluded.append(url)
            continue
        if len(pages) < limit:
            pages.append(url)
    return pages, excluded


def _any(url: str) -> bool:
    return True


def sitemap_urls(text: str) -> list[str]:
    """The `<loc>` entries of a sitemap (or the sitemaps of a sitemap index)."""
    return [html.unescape(m) for m in _SITEMAP_LOC.findall(text)]


async def _fetch_text(context: Any, url: str, timeout: float) -> tuple[int | None, str | None]:
    """A text file through the browser's own network stack (its resolver and proxy).

    Returns the HTTP status (None when unreachable) and the text of a successful answer.
    """
    page = await context.new_page()
    try:
        response = await page.goto(url, timeout=timeout * 1000)
        if response is None:
            return None, None
        if response.status >= 400:
            return response.status, None
        body: bytes = await response.body()
        return response.status, body[: 2 * 1024 * 1024].decode("utf-8", "replace")
    except Exception:  # an unreachable robots.txt or sitemap counts as absent
        return None, None
    finally:
        await page.close()


def robots_parser(
    status: int | None, text: str | None
) -> urllib.robotparser.RobotFileParser | None:
    """The rules of one origin; None when there are none (everything allowed).

    As urllib.robotparser reads them: 401 or 403 forbids everything, another 4xx or no
    answer allows everything. A 5xx forbids everything for now, as the big crawlers do: a
    server in trouble is not scanned.
    """
    parser = urllib.robotparser.RobotFileParser()
    if status in (401, 403) or (status is not None and status >= 500):
        parser.parse(["User-agent: *", "Disallow: /"])
        return parser
    if text is None:
        return None
    parser.parse(text.splitlines())
    return parser


def _set_by_response(url: str) -> str:
    return f"Set-Cookie from {url}"


def _set_by_script(source: str, page: str) -> str:
    inserted = source.removeprefix("inserted by ")
    if inserted != source:
        return f"inline script inserted by {inserted}"
    return f"inline script on {source}" if source == page else f"script {source}"


class _Crawl:
    """One scan's browser and limits, and what its visits share: screenshots taken so far,
    robots.txt's crawl delay and the time of the last page load."""

    def __init__(
        self, browser: Any, settings: BrowserSettings, limits: Limits, observations: Observations
    ) -> None:
        self.browser = browser
        self.settings = settings
        self.limits = limits
        self.obs = observations
        self.deadline = time.monotonic() + limits.total_seconds
        self.delay = 0.0
        self.gate = asyncio.Lock()
        self.last_load = 0.0
        self.shots = 0

    async def polite_wait(self) -> None:
        """Honour a robots.txt Crawl-delay between page loads, across concurrent visits."""
        if not self.delay:
            return
        async with self.gate:
            wait = self.last_load + self.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.last_load = time.monotonic()

    async def visit(self, url: str, phase: Phase) -> tuple[Visit, list[str]]:
        """Load one page in a fresh profile; returns the visit and the page's links.

        Bounded as a whole: a page whose scripts never yield (every call into it waits for
        the page) is given up, and the scan goes on.
        """
        limits = self.limits
        cap = limits.navigation_seconds + limits.settle_seconds * 2 + limits.banner_seconds * 3
        try:
            async with asyncio.timeout(cap + 15):
                return await self._visit(url, phase)
        except TimeoutError:
            return Visit(url, phase, error=f"the page did not finish within {cap + 15:.0f} s"), []

    async def _visit(self, url: str, phase: Phase) -> tuple[Visit, list[str]]:
        await self.polite_wait()
        context = await self.browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(INSTRUMENT)
        requests: list[RequestSeen] = []
        set_cookie: dict[str, str] = {}
        pending: list[asyncio.Task[None]] = []

        network = _Network()

        def on_request(request: Any) -> None:
            requests.append(RequestSeen(request.url, url, phase, request.resource_type))
            network.started(request)

        async def read_set_cookie(response: Any) -> None:
            try:
                for header in await response.header_values("set-cookie"):
                    for line in header.split("\n"):
                        name = line.split(";", 1)[0].split("=", 1)[0].strip()
                        if name:
                            set_cookie.setdefault(name, response.url)
            except Exception:  # noqa: S110  (a response gone with its page tells nothing)
                pass

        def on_response(response: Any) -> None:
            pending.append(asyncio.ensure_future(read_set_cookie(response)))

        context.on("request", on_request)
        context.on("response", on_response)
        context.on("requestfinished", network.ended)
        context.on("requestfailed", network.ended)
        page = await context.new_page()
        status: int | None = None
        links: list[str] = []
        banner = accepted = False
        screenshot: bytes | None = None
        error: str | None = None
        try:
            response = await page.goto(url, timeout=self.limits.navigation_seconds * 1000)
            status = response.status if response is not None else None
            await self._settle(network)
            banner = await self._banner_opens(page)
            if phase == "no_choice":
                if banner and self.shots < self.limits.screenshots:
                    self.shots += 1
                    await self._finish_animations(page)
                    screenshot = await page.screenshot(type="png")
                links = await page.eval_on_selector_all(
                    "a[href]", "els => els.map(e => e.getAttribute('href'))"
                )
            elif banner:
                accepted, error = await self._accept_all(page)
                # The choice goes to the service, then the gated scripts load and run.
                await self._settle(network)
            await self._collect(context, page, url, phase, set_cookie, pending)
        except Exception as exc:  # one broken page is a note; a broken start page stops the scan
            error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        finally:
            await context.close()
        for task in pending:
            task.cancel()
        self.obs.requests.extend(requests)
        return (
            Visit(url, phase, status, banner, accepted, error, screenshot),
            [str(link) for link in links if link],
        )

    async def _settle(self, network: _Network) -> None:
        """Wait until no request has been open for a while (late trackers), within a limit.

        Playwright's "networkidle" state is reached once per page load, so it cannot tell
        when the requests a click started are over; this watches the requests themselves.
        A page that never goes quiet is scanned as it is when the limit runs out.
        """
        deadline = time.monotonic() + self.limits.settle_seconds
        while time.monotonic() < deadline:
            if network.quiet_for() >= self.limits.quiet_seconds:
                return
            await asyncio.sleep(0.05)

    async def _banner_opens(self, page: Any) -> bool:
        try:
            await page.wait_for_selector(_BANNER, timeout=self.limits.banner_seconds * 1000)
        except Exception:  # no banner of ours on this page
            return False
        return True

    async def _finish_animations(self, page: Any) -> None:
        await page.evaluate(
            """() => { const d = document.querySelector('consent-banner')?.shadowRoot
                ?.querySelector('dialog');
              return d && Promise.all(d.getAnimations().map(a => a.finished)) }"""
        )

    async def _accept_all(self, page: Any) -> tuple[bool, str | None]:
        """Click the banner's "accept all": by its label, else the first button of its row.

        Returns whether it clicked, and the problem when the service did not confirm the
        choice (the visit still records what it saw).
        """
        buttons = page.locator(f"{_BANNER} button")
        target = None
        for label in self.settings.accept_labels:
            candidate = buttons.filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
            if await candidate.count():
                target = candidate.first
                break
        if target is None:
            row = page.locator(f"{_BANNER} .row button")
            if not await row.count():
                return False, None
            target = row.first
        await target.click(timeout=self.limits.banner_seconds * 1000)
        # The banner keeps the choice under this localStorage key (widget/src/consent.js) until
        # the service has recorded it: its removal says the choice reached the service.
        deadline = time.monotonic() + self.limits.banner_seconds
        while time.monotonic() < deadline:
            if await page.evaluate(_CHOICE_CONFIRMED):
                return True, None
            await asyncio.sleep(0.05)
        return True, "the consent service did not confirm the choice (consent_pending stays)"

    async def _collect(
        self,
        context: Any,
        page: Any,
        url: str,
        phase: Phase,
        set_cookie: dict[str, str],
        pending: list[asyncio.Task[None]],
    ) -> None:
        if pending:
            await asyncio.wait(pending, timeout=2)
        scripts: dict[tuple[str, str], str] = {}
        storage: list[StorageSeen] = []
        for frame in page.frames:
            try:
                found = await frame.evaluate(_READ_STORAGE)
            except Exception:  # noqa: S112  (a frame gone or not scriptable)
                continue
            for entry in found["log"]:
                if entry.get("source"):
                    scripts.setdefault((entry["kind"], entry["name"]), entry["source"])
            areas: tuple[tuple[StorageArea, list[str]], ...] = (
                ("localStorage", found["local"]),
                ("sessionStorage", found["session"]),
            )
            for area, keys in areas:
                for key in keys:
                    source = scripts.get((area, key))
                    storage.append(
                        StorageSeen(
                            area,
                            key,
                            found["origin"],
                            url,
                            phase,
                            _set_by_script(source, url) if source else None,
                        )
                    )
        # Keys and origins are unique per visit; frames of one origin share their storage.
        self.obs.storage.extend(dict.fromkeys(storage))
        now = time.time()
        for c in await context.cookies():
            expires = c.get("expires", -1)
            lifetime = None if expires is None or expires < 0 else max(0, int(expires - now))
            script = scripts.get(("cookie", c["name"]))
            if script:
                set_by: str | None = _set_by_script(script, url)
            elif c["name"] in set_cookie:
                set_by = _set_by_response(set_cookie[c["name"]])
            else:
                set_by = None
            self.obs.cookies.append(
                CookieSeen(c["name"], c["domain"], url, phase, lifetime, set_by)
            )

    def time_left(self) -> bool:
        return time.monotonic() < self.deadline

    async def discover(self, start: str) -> tuple[_Robots, list[str]]:
        """robots.txt of the start origin, and the sitemaps it (or convention) names."""
        context = await self.browser.new_context()
        robots = _Robots()
        sitemaps: list[str] = []
        try:
            parser = robots_parser(
                *await _fetch_text(
                    context, _origin(start) + "/robots.txt", self.limits.navigation_seconds
                )
            )
            robots.parsers[_origin(start)] = parser
            if parser is not None:
                delay = parser.crawl_delay(ROBOTS_AGENT)
                if delay:
                    self.delay = min(float(delay), self.limits.max_crawl_delay)
                sitemaps = list(parser.site_maps() or [])
            site = site_of(urlsplit(start).hostname or "")
            queue = (sitemaps or [_origin(start) + "/sitemap.xml"])[:3]
            urls: list[str] = []
            fetched = 0
            # A sitemap index names other sitemaps: a few of them are read, same site only.
            while queue and fetched < 6:
                sitemap = queue.pop(0)
                if not same_site(sitemap, site):
                    continue
                fetched += 1
                _, body = await _fetch_text(context, sitemap, self.limits.navigation_seconds)
                if not body:
                    continue
                found = sitemap_urls(body)[: self.limits.pages * 5]
                if "<sitemapindex" in body:
                    queue += found[:3]
                else:
                    urls += found
        finally:
            await context.close()
        return robots, urls

    async def robots_for(self, robots: _Robots, url: str) -> None:
        """Fetch robots.txt of another origin of the site the first time a link leads there."""
        origin = _origin(url)
        if origin in robots.parsers:
            return
        context = await self.browser.new_context()
        try:
            answer = await _fetch_text(
                context, origin + "/robots.txt", self.limits.navigation_seconds
            )
        finally:
            await context.close()
        robots.parsers[origin] = robots_parser(*answer)


async def crawl(
    start_url: str,
    settings: BrowserSettings,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Observations:
    """Scan a site from its start page; raises ScanError when it cannot be scanned at all.

    `progress(pages_done, pages_total)` is called once the pages are known and after each.
    """
    from playwright.async_api import async_playwright

    limits = limits or Limits()
    start = normalise(start_url)
    if start is None:
        raise ScanError(f"{start_url} is not an http(s) page address")
    observations = Observations(url=start, started_at=datetime.now(UTC))
    async with async_playwright() as p:
        try:
            browser = await p.chromium.launch(
                executable_path=settings.executable_path,
                args=[*CHROMIUM_FLAGS, *settings.extra_args],
            )
        except Exception as exc:
            raise ScanError(
                f"could not start Chromium at {settings.executable_path}: "
                f"{str(exc).splitlines()[0] if str(exc) else exc}"
            ) from exc
        try:
            await _crawl_with(browser, start, settings, limits, observations, progress)
        finally:
            await browser.close()
    return observations


async def _crawl_with(
    browser: Any,
    start: str,
    settings: BrowserSettings,
    limits: Limits,
    obs: Observations,
    progress: Callable[[int, int], None] | None,
) -> None:
    crawl_ = _Crawl(browser, settings, limits, obs)
    robots, sitemap = await crawl_.discover(start)
    if not robots.allows(start):
        raise ScanError(f"robots.txt of {_origin(start)} does not allow {ROBOTS_AGENT} {start}")

    first, links = await crawl_.visit(start, "no_choice")
    if first.error is not None or first.status is None:
        raise ScanError(f"could not load {start}: {first.error or 'no response'}")
    if first.status >= 400:
        raise ScanError(f"{start} answered HTTP {first.status}")

    # robots.txt of each other origin of the site, for the candidates up to the page limit.
    candidates, _ = pages_to_scan(start, links, sitemap, len(links) + len(sitemap) + 1, _any)
    allowed = 1
    for url in candidates[1:]:
        if allowed >= limits.pages:
            break
        await crawl_.robots_for(robots, url)
        allowed += robots.allows(url)
    pages, excluded = pages_to_scan(start, links, sitemap, limits.pages, robots.allows)
    obs.pages.append(start)
    obs.visits.append(first)
    for url in excluded:
        obs.notes.append(f"robots.txt excludes {url}; not scanned")

    semaphore = asyncio.Semaphore(1 if crawl_.delay else limits.concurrency)
    skipped: list[str] = []
    finished = 0
    if progress:
        progress(finished, len(pages))

    async def both_visits(url: str, done: list[Visit]) -> list[Visit]:
        async with semaphore:
            visits = list(done)
            phases: tuple[Phase, ...] = ("no_choice", "accept_all")
            for phase in phases[len(done) :]:
                if not crawl_.time_left():
                    skipped.append(url)
                    break
                visit, _ = await crawl_.visit(url, phase)
                visits.append(visit)
            nonlocal finished
            finished += 1
            if progress:
                progress(finished, len(pages))
            return visits

    results = await asyncio.gather(
        both_visits(start, [first]), *(both_visits(url, []) for url in pages[1:])
    )
    obs.visits = []
    for url, visits in zip(pages, results, strict=True):
        if visits:
            obs.visits.extend(visits)
            if url != start:
                obs.pages.append(url)
        for visit in visits:
            if visit.error:
                obs.notes.append(f"{visit.page} ({visit.phase}): {visit.error}")
        if visits and visits[-1].phase == "accept_all" and visits[-1].banner_found is False:
            obs.notes.append(
                f"{url}: no banner of this service opened; accepting all was not possible"
            )
    if skipped:
        obs.notes.append(
            f"the time limit of {limits.total_seconds:.0f} s was reached; "
            f"{len(set(skipped))} page(s) were not fully scanned"
        )
