"""Where a visit came from: a source name and its kind, from the referrer and `utm_source`.

A small table of the search engines and social networks that send visitors to a Swedish
municipality's pages; every other referring host is "another site" under its own name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

SEARCH = "search"
SOCIAL = "social"
SITE = "site"  # another web site, named by its host
CAMPAIGN = "campaign"  # no referrer, but a `utm_source` (a newsletter, a QR code, ...)
DIRECT = "direct"  # no referrer and no campaign: typed, bookmarked, or the referrer withheld
KINDS = (SEARCH, SOCIAL, SITE, CAMPAIGN, DIRECT)
DIRECT_NAME = "Direct / None"  # Plausible's name for it


class Known(NamedTuple):
    name: str
    kind: str
    labels: tuple[str, ...] = ()  # a label of the host besides its last: google.se, www.google.com
    hosts: tuple[str, ...] = ()  # the host or a subdomain of it: t.co, search.brave.com


KNOWN = (
    Known("Google", SEARCH, ("google",)),
    Known("Bing", SEARCH, ("bing",)),
    Known("DuckDuckGo", SEARCH, ("duckduckgo",)),
    Known("Yahoo", SEARCH, ("yahoo",)),
    Known("Ecosia", SEARCH, ("ecosia",)),
    Known("Yandex", SEARCH, ("yandex",)),
    Known("Baidu", SEARCH, ("baidu",)),
    Known("Qwant", SEARCH, ("qwant",)),
    Known("Startpage", SEARCH, ("startpage",)),
    Known("Brave Search", SEARCH, hosts=("search.brave.com",)),
    Known("Facebook", SOCIAL, ("facebook", "fb")),
    Known("Instagram", SOCIAL, ("instagram",)),
    Known("LinkedIn", SOCIAL, ("linkedin",), ("lnkd.in",)),
    Known("X (Twitter)", SOCIAL, ("twitter",), ("x.com", "t.co")),
    Known("YouTube", SOCIAL, ("youtube",), ("youtu.be",)),
    Known("TikTok", SOCIAL, ("tiktok",)),
    Known("Reddit", SOCIAL, ("reddit",)),
    Known("Pinterest", SOCIAL, ("pinterest",)),
    Known("Threads", SOCIAL, hosts=("threads.net", "threads.com")),
    Known("Bluesky", SOCIAL, hosts=("bsky.app",)),
)
_BY_LABEL = {label: known for known in KNOWN for label in known.labels}
_BY_NAME = {known.name.lower(): known for known in KNOWN}


@lru_cache(maxsize=4096)
def known_host(host: str) -> Known | None:
    for known in KNOWN:
        if any(host == h or host.endswith("." + h) for h in known.hosts):
            return known
    for label in host.split(".")[:-1]:
        if label in _BY_LABEL:
            return _BY_LABEL[label]
    return None


@lru_cache(maxsize=4096)
def source_of(referrer_host: str | None, utm_source: str | None) -> tuple[str, str]:
    """A visit's source name and kind, e.g. ("Google", "search"), ("Direct / None", "direct").

    The referrer decides when there is one; without it, `utm_source` names the source (a
    known name such as "facebook" or "fb" keeps its kind).
    """
    if referrer_host:
        known = known_host(referrer_host)
        return (known.name, known.kind) if known else (referrer_host, SITE)
    if utm_source:
        wanted = utm_source.strip().lower()
        known = _BY_NAME.get(wanted) or _BY_LABEL.get(wanted) or known_host(wanted)
        return (known.name, known.kind) if known else (utm_source, CAMPAIGN)
    return DIRECT_NAME, DIRECT
