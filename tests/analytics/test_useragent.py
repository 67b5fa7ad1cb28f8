"""The built-in user-agent reader: coarse classes only, bots recognised."""

from __future__ import annotations

import pytest

from consent_service.analytics.useragent import read_user_agent

CASES = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", ("chrome", "windows", "desktop")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", ("edge", "windows", "desktop")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1", ("safari", "ios", "mobile")),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", ("safari", "ios", "tablet")),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", ("samsung", "android", "mobile")),
    ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", ("chrome", "android", "tablet")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
     ("firefox", "macos", "desktop")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     ("firefox", "linux", "desktop")),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", ("chrome", "chromeos", "desktop")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", ("opera", "windows", "desktop")),
    ("Mozilla/5.0 (Something/1.0)", ("other", "other", "desktop")),
]  # fmt: skip


@pytest.mark.parametrize(("ua", "expected"), CASES)
def test_browser_system_and_device(ua: str, expected: tuple[str, str, str]) -> None:
    client = read_user_agent(ua)
    assert not client.bot
    assert (client.browser, client.os, client.device) == expected


@pytest.mark.parametrize(
    "ua",
    ["", "Wget/1.21", "Go-http-client/2.0", "okhttp/4.12", "Java/17",
     "Mozilla/5.0 (compatible; YandexBot/3.0)", "Mozilla/5.0 (compatible; AhrefsBot/7.0)",
     "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko; "
     "compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
     "facebookexternalhit/1.1", "Mozilla/5.0 (compatible; UptimeRobot/2.0)"],
)  # fmt: skip
def test_bots(ua: str) -> None:
    assert read_user_agent(ua).bot
