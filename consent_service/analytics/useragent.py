"""A small user-agent reader: browser family, operating system, device class, bots.

Only these coarse classes are stored, never the user agent itself. The patterns cover the
browsers that make up nearly all traffic to a Swedish municipal site; anything else is
"other". Order matters: Chromium-based browsers also say "Chrome" and "Safari".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_USER_AGENT = 512

# Crawlers, monitors, headless and scripted browsers, and HTTP libraries. Real browsers all
# start with "Mozilla/5.0", which is checked separately.
BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|scrapy|facebookexternalhit|embedly|preview|"
    r"headless|phantomjs|selenium|puppeteer|playwright|lighthouse|pagespeed|pingdom|uptime|"
    r"statuscake|monitor|validator|check_http|curl|wget|python|java/|go-http|okhttp|axios|"
    r"node-fetch|libwww|httpclient|feedfetcher|mediapartners|ahrefs|semrush|yandex|baidu|"
    r"screaming frog|sitebulb|daum|petal",
    re.IGNORECASE,
)

BROWSERS = (
    ("edge", re.compile(r"Edg(?:e|A|iOS)?/")),
    ("opera", re.compile(r"OPR/|Opera|OPT/")),
    ("samsung", re.compile(r"SamsungBrowser/")),
    ("firefox", re.compile(r"Firefox/|FxiOS/")),
    ("chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("safari", re.compile(r"Version/[\d.]+.*Safari/|AppleWebKit/.*Mobile/")),
)
SYSTEMS = (
    ("ios", re.compile(r"iPhone|iPad|iPod")),
    ("android", re.compile(r"Android")),
    ("windows", re.compile(r"Windows")),
    ("chromeos", re.compile(r"CrOS")),
    ("macos", re.compile(r"Mac OS X|Macintosh")),
    ("linux", re.compile(r"Linux|X11")),
)
TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk/|Kindle")
MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone")


@dataclass(frozen=True)
class Client:
    bot: bool
    browser: str = "other"
    os: str = "other"
    device: str = "desktop"


@lru_cache(maxsize=2048)
def read_user_agent(user_agent: str) -> Client:
    """Classify a user agent; unknown or scripted clients count as bots."""
    ua = user_agent.strip()
    if not ua or len(ua) > MAX_USER_AGENT or not ua.startswith("Mozilla/5.0"):
        return Client(bot=True)
    if BOT_PATTERN.search(ua):
        return Client(bot=True)
    browser = next((name for name, pattern in BROWSERS if pattern.search(ua)), "other")
    os = next((name for name, pattern in SYSTEMS if pattern.search(ua)), "other")
    if TABLET.search(ua) or ("Android" in ua and "Mobile" not in ua):
        device = "tablet"
    elif MOBILE.search(ua):
        device = "mobile"
    else:
        device = "desktop"
    return Client(bot=False, browser=browser, os=os, device=device)
