"""The scanner's rules over recorded observations: no browser needed."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_service.scanner.crawler import (
    ROBOTS_AGENT,
    normalise,
    pages_to_scan,
    robots_parser,
    sitemap_urls,
)
from consent_service.scanner.report import as_html
from consent_service.scanner.services import (
    KNOWN_COOKIES_FILE,
    CookieSeen,
    Declaration,
    Observations,
    Phase,
    RequestSeen,
    StorageSeen,
    Visit,
    build_report,
    declarations_from_policy,
    load_known,
    match_declaration,
    name_matches,
    site_of,
)
from consent_service.sites.policy import CATEGORIES, load_policy

START = "https://www.uppsala.se/"
SECOND = "https://www.uppsala.se/bo-och-leva/"
DECLARED = [
    Declaration("consent", "necessary"),
    Declaration("uppsala_prefs", "functional"),
    Declaration("_pk_id.*", "statistics"),
    Declaration("_pk_ses.*", "statistics"),
    Declaration("matomo_opt", "statistics", "storage"),
]


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("_pk_id.*", "_pk_id.1.a1b2", True),
        ("_pk_id.*", "_pk_id.", True),
        ("_pk_id.*", "_pk_id", False),
        ("_pk_id.*", "_pk_ses.1.a1b2", False),
        ("_ga_*", "_ga_ABC123", True),
        ("_ga", "_ga", True),
        ("_ga", "_gat", False),
        ("_ga", "_ga_ABC", False),
        ("*", "anything", True),
    ],
)
def test_a_trailing_star_is_a_prefix(pattern: str, name: str, matches: bool) -> None:
    assert name_matches(pattern, name) is matches


def test_an_exact_declaration_wins_over_a_prefix() -> None:
    declarations = [Declaration("_ga*", "statistics"), Declaration("_gac", "functional")]
    assert match_declaration(declarations, "cookie", "_gac") == declarations[1]
    assert match_declaration(declarations, "cookie", "_gat") == declarations[0]
    assert match_declaration(declarations, "storage", "_gat") is None


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.uppsala.se", "uppsala.se"),
        ("samtycke.uppsala.se", "uppsala.se"),
        ("uppsala.se", "uppsala.se"),
        ("UPPSALA.SE.", "uppsala.se"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("tracker.example.test", "example.test"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
    ],
)
def test_the_site_of_a_host(host: str, site: str) -> None:
    assert site_of(host) == site


def test_declarations_come_from_the_policy_with_storage_keys() -> None:
    policy = load_policy(Path("consent_service/policy/uppsala.toml"))
    declared = declarations_from_policy(policy.cookies)
    assert [(d.pattern, d.category) for d in declared if d.kind == "cookie"] == [
        (c["name"], c["category"]) for c in policy.cookies
    ]
    with_storage = declarations_from_policy(
        [{"name": "uppsala_prefs", "category": "functional", "storage": ["prefs", "layout*"]}]
    )
    assert [(d.pattern, d.kind) for d in with_storage] == [
        ("uppsala_prefs", "cookie"),
        ("prefs", "storage"),
        ("layout*", "storage"),
    ]


def test_the_well_known_list_is_data_with_the_usual_names() -> None:
    raw = tomllib.loads(KNOWN_COOKIES_FILE.read_text(encoding="utf-8"))
    patterns = [k["pattern"] for k in raw["known"]]
    assert len(patterns) == len(set(patterns))
    known = load_known()
    for name, provider in [
        ("_pk_id.1.abcd", "Matomo"),
        ("_pk_ses.1.abcd", "Matomo"),
        ("_ga", "Google Analytics"),
        ("_ga_XYZ", "Google Analytics"),
        ("_gid", "Google Analytics"),
        ("VISITOR_INFO1_LIVE", "YouTube"),
        ("YSC", "YouTube"),
        ("nmstat", "Siteimprove"),
        ("siteimproveses", "Siteimprove"),
        ("vuid", "Vimeo"),
        ("_fbp", "Facebook (Meta)"),
    ]:
        found = match_declaration(known, "cookie", name)
        assert found is not None and found.provider == provider, name


def observe(**lists: Any) -> Observations:
    obs = Observations(url=START, started_at=datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    obs.pages = [START, SECOND]
    obs.visits = [
        Visit(page, phase, 200, True, phase == "accept_all")
        for page in obs.pages
        for phase in ("no_choice", "accept_all")
    ]
    for name, items in lists.items():
        setattr(obs, name, items)
    return obs


def cookie(name: str, phase: Phase, page: str = START, domain: str = "www.uppsala.se") -> Any:
    return CookieSeen(name, domain, page, phase, 3600, None)


def kinds(obs: Observations, declared: list[Declaration] | None = None) -> list[tuple[str, str]]:
    report = build_report(obs, DECLARED if declared is None else declared, load_known())
    return [(f.kind, f.name or f.host or "") for f in report.findings]


# Every declaration seen after accepting all: the clean baseline the cases below add to.
CLEAN = [
    cookie("consent", "accept_all", domain=".uppsala.se"),
    cookie("uppsala_prefs", "accept_all"),
    cookie("_pk_id.1.ab", "accept_all"),
    cookie("_pk_ses.1.ab", "accept_all"),
]
CLEAN_STORAGE = [StorageSeen("localStorage", "matomo_opt", START[:-1], START, "accept_all")]


@pytest.mark.parametrize(
    ("extra_cookies", "extra_requests", "expected"),
    [
        # Necessary before a choice: fine.
        ([cookie("consent", "no_choice", domain=".uppsala.se")], [], []),
        # A declared statistics cookie before a choice.
        ([cookie("_pk_ses.1.ab", "no_choice", SECOND)], [], [("before_consent", "_pk_ses.1.ab")]),
        # Undeclared, before a choice: both findings; after a choice: undeclared only.
        ([cookie("_ga", "no_choice")], [], [("before_consent", "_ga"), ("undeclared", "_ga")]),
        ([cookie("_ga", "accept_all")], [], [("undeclared", "_ga")]),
        # Another site before a choice (once per host), and after: only the latter is fine.
        (
            [],
            [
                RequestSeen("https://px.example.com/a.gif", START, "no_choice", "image"),
                RequestSeen("https://px.example.com/b.gif", SECOND, "no_choice", "image"),
                RequestSeen("https://www.youtube.com/embed/x", START, "accept_all", "document"),
                RequestSeen("https://samtycke.uppsala.se/embed/consent.js", START, "no_choice"),
            ],
            [("third_party_before_consent", "px.example.com")],
        ),
    ],
)
def test_findings(
    extra_cookies: list[CookieSeen], extra_requests: list[RequestSeen], expected: list[Any]
) -> None:
    obs = observe(cookies=[*CLEAN, *extra_cookies], storage=CLEAN_STORAGE, requests=extra_requests)
    assert kinds(obs) == expected


def test_storage_keys_before_consent_and_undeclared() -> None:
    storage = [
        *CLEAN_STORAGE,
        StorageSeen("localStorage", "matomo_opt", START[:-1], START, "no_choice"),
        StorageSeen("sessionStorage", "_hjid", START[:-1], SECOND, "no_choice"),
    ]
    obs = observe(cookies=CLEAN, storage=storage)
    assert kinds(obs) == [
        ("before_consent", "matomo_opt"),
        ("before_consent", "_hjid"),
        ("undeclared", "_hjid"),
    ]


def test_declared_not_seen_names_each_missing_declaration() -> None:
    obs = observe(cookies=CLEAN[:2], storage=[])
    report = build_report(obs, DECLARED, load_known())
    missing = [f for f in report.findings if f.kind == "declared_not_seen"]
    assert [f.name for f in missing] == ["_pk_id.*", "_pk_ses.*", "matomo_opt"]
    assert all(f.page == START for f in missing)
    assert "after accepting all" in missing[0].detail
    # Without this service's banner nothing could be accepted; the detail says so.
    obs.visits = [Visit(START, "no_choice", 200), Visit(START, "accept_all", 200)]
    assert "no page showed this service's banner" in build_report(obs, DECLARED).findings[0].detail


def test_the_json_document_follows_the_contract() -> None:
    obs = observe(
        cookies=[
            *CLEAN,
            CookieSeen(
                "_ga", "www.uppsala.se", SECOND, "no_choice", 86400 * 400, "Set-Cookie from x"
            ),
            CookieSeen("_ga", "www.uppsala.se", START, "accept_all", 86400 * 400, None),
            CookieSeen("YSC", ".youtube.com", START, "accept_all", None, None),
        ],
        storage=CLEAN_STORAGE,
        requests=[RequestSeen("https://www.youtube.com/embed/x", START, "no_choice", "document")],
    )
    doc = build_report(obs, DECLARED, load_known()).as_json()
    assert list(doc)[:5] == ["url", "started_at", "pages", "cookies", "findings"]
    assert doc["url"] == START and doc["started_at"] == "2026-12-02T08:00:00Z"
    assert doc["pages"] == [START, SECOND]
    ga = next(c for c in doc["cookies"] if c["name"] == "_ga")
    assert {k: ga[k] for k in list(ga)[:6]} == {
        "name": "_ga",
        "domain": "www.uppsala.se",
        "first_party": True,
        "set_before_consent": True,
        "declared_as": None,
        "pages": [START, SECOND],  # in crawl order
    }
    ysc = next(c for c in doc["cookies"] if c["name"] == "YSC")
    assert ysc["first_party"] is False and ysc["lifetime_seconds"] is None
    by_kind = {(f["kind"], f.get("name") or f.get("host")): f for f in doc["findings"]}
    third = by_kind[("third_party_before_consent", "www.youtube.com")]
    assert set(third) == {"kind", "page", "host", "detail"}
    assert set(by_kind[("undeclared", "YSC")]) == {"kind", "page", "name", "detail"}
    assert "looks like YouTube (functional)" in by_kind[("undeclared", "YSC")]["detail"]
    assert by_kind[("before_consent", "_ga")]["page"] == SECOND
    assert build_report(obs, DECLARED).exit_code == 1
    assert build_report(observe(cookies=CLEAN, storage=CLEAN_STORAGE), DECLARED).exit_code == 0


def test_an_unknown_marketing_cookie_gets_no_category_of_this_policy() -> None:
    obs = observe(cookies=[*CLEAN, cookie("_fbp", "accept_all")], storage=CLEAN_STORAGE)
    [finding] = build_report(obs, DECLARED, load_known(), CATEGORIES).findings
    assert "Facebook (Meta) (marketing); this policy has no category 'marketing'" in finding.detail


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.uppsala.se", "https://www.uppsala.se/"),
        ("https://www.uppsala.se/a#top", "https://www.uppsala.se/a"),
        ("/b?x=1", "https://www.uppsala.se/b?x=1"),
        ("mailto:info@uppsala.se", None),
        ("javascript:void(0)", None),
        ("/dokument/plan.PDF", None),
        ("http://[oops/", None),
    ],
)
def test_only_http_pages_are_normalised(url: str, expected: str | None) -> None:
    assert normalise(url, START) == expected


def test_pages_to_scan_stay_on_the_site_within_the_limit() -> None:
    links = [
        "/a",
        "/a#again",
        "https://uppsala.se/b",  # same site, other host
        "https://www.youtube.com/watch?v=x",
        "/intern/c",
        "/d",
        "/e",
    ]
    sitemap = ["https://www.uppsala.se/f", "https://www.uppsala.se/a"]

    def allowed(url: str) -> bool:
        return "/intern/" not in url

    pages, excluded = pages_to_scan(START, links, sitemap, 4, allowed)
    assert pages == [
        START,
        "https://www.uppsala.se/a",
        "https://uppsala.se/b",
        "https://www.uppsala.se/d",
    ]
    assert excluded == ["https://www.uppsala.se/intern/c"]
    assert pages_to_scan(START, links, sitemap, 1, allowed)[0] == [START]


def test_sitemap_locations_are_read_without_parsing_xml_entities() -> None:
    text = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        "<urlset><url><loc> https://www.uppsala.se/a?x=1&amp;y=2 </loc></url>"
        "<url><loc>https://www.uppsala.se/&a;</loc></url></urlset>"
    )
    assert sitemap_urls(text) == ["https://www.uppsala.se/a?x=1&y=2", "https://www.uppsala.se/&a;"]


def test_the_html_report_is_accessible_by_construction(app: Flask) -> None:
    obs = observe(
        cookies=[*CLEAN, cookie("_ga", "no_choice")],
        storage=CLEAN_STORAGE,
        requests=[RequestSeen(START, START, "no_choice", "document")],
    )
    obs.visits[0] = Visit(START, "no_choice", 200, True, False, None, b"\x89PNG fake")
    with app.app_context():
        html = as_html(build_report(obs, DECLARED, load_known()), 3, language="en")
        swedish = as_html(build_report(obs, DECLARED, load_known()), 3)
    assert html.startswith('<!doctype html>\n<html lang="en"')
    assert "<h1>Cookie scan of https://www.uppsala.se/</h1>" in html
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in html
    assert 'alt="Screenshot of https://www.uppsala.se/ on a first visit' in html
    assert "<th>" not in html  # every header cell has a scope
    # Findings grouped by kind (two kinds here), then cookies, storage, hosts and visits.
    assert html.count("<table>") == html.count("<caption id=") == 6
    assert "2 findings" in html and "Policy version 3" in html
    assert swedish.startswith('<!doctype html>\n<html lang="sv"')
    assert "<h1>Kakskanning av https://www.uppsala.se/</h1>" in swedish
    assert "2 anmärkningar" in swedish and "Policyversion 3" in swedish
    assert 'alt="Skärmbild av https://www.uppsala.se/ vid ett första besök' in swedish


def test_scan_exits_2_without_a_browser_or_with_a_bad_address(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["scan", "ftp://www.uppsala.se/"])
    assert result.exit_code == 2 and "not an http(s) page address" in result.stderr
    runner.app.config["CHROMIUM_PATH"] = "/nonexistent/chromium"
    result = runner.invoke(args=["scan", START])
    assert result.exit_code == 2 and "could not start Chromium" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("status", "text", "allowed"),
    [
        (200, "User-agent: *\nDisallow: /intern/\n", {"/": True, "/intern/x": False}),
        (200, "User-agent: consent-service-scanner\nDisallow: /\n", {"/": False}),
        (404, None, {"/": True, "/intern/x": True}),
        (None, None, {"/": True}),  # unreachable: no rules
        (401, None, {"/": False}),
        (403, None, {"/": False}),
        (503, None, {"/": False}),  # a server in trouble is not scanned
    ],
)
def test_robots_txt_is_read_as_crawlers_read_it(
    status: int | None, text: str | None, allowed: dict[str, bool]
) -> None:
    parser = robots_parser(status, text)
    for path, expected in allowed.items():
        url = "https://www.uppsala.se" + path
        assert (parser is None or parser.can_fetch(ROBOTS_AGENT, url)) is expected, path
