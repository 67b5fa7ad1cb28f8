"""The suite's one headless Chromium (Debian's package, driven by Playwright).

One per test process: Playwright's sync API runs an event loop in the calling thread, so a
second `sync_playwright()` in the same process fails. Every test that needs a browser —
banner, pages, scanner — takes this fixture (registered in tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_sync

CHROMIUM = os.environ.get("CONSENT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
# *.uppsala.test: the municipality's hosts; *.video.test and *.example.test: third parties.
RESOLVER_RULES = (
    "--host-resolver-rules=MAP *.uppsala.test 127.0.0.1,MAP *.video.test 127.0.0.1,"
    "MAP *.example.test 127.0.0.1"
)


def chromium_or_skip() -> str:
    """Debian's chromium; without it a failure in CI and a skip elsewhere."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_or_skip()
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_FLAGS, RESOLVER_RULES]
        )
        yield launched
        launched.close()


def page_that_records_errors(context: Any, timeout_ms: int = 5000) -> Any:
    """A new page whose `errors` list collects CSP violations and script errors.

    A 4xx page's own "Failed to load resource" line is expected and left out.
    """
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and errors.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    return page


def until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `check` until it gives a true value (returned), for what a page does in the
    background: a request the page sends after updating itself, say."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return value
