"""Two sites served by one deployment keep their citizens, statistics, ideas and staff apart."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from consent_service.admin.models import Role, User
from consent_service.analytics.models import AnalyticsEvent as Event
from consent_service.audit.models import ConsentEntry
from consent_service.db import db
from consent_service.ideas.models import Idea
from tests.analytics.conftest import consent_cookie, pageview, send
from tests.conftest import HOST_ORIGIN, make_app
from tests.helpers.forms import csrf_token_in
from tests.helpers.staff import make_staff, sign_in
from tests.sites.test_sites import KNIVSTA, add_knivsta


def two_sites(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0)
    add_knivsta(app)
    return app


def test_statistics_are_counted_for_the_site_whose_page_sent_them(tmp_path: Path) -> None:
    app = two_sites(tmp_path)
    client = app.test_client()
    uppsala = send(client, [pageview("/bo")], cookie=consent_cookie(app), origin=HOST_ORIGIN)
    knivsta = send(client, [pageview("/skola"), pageview("/skola/2")],
                   cookie=consent_cookie(app, version=1), origin=KNIVSTA)  # fmt: skip
    assert uppsala.json == {"stored": 1} and knivsta.json == {"stored": 2}
    # A page of the other site's host is not counted for this one.
    crossed = send(client, [{"type": "pageview", "path": "/", "url": HOST_ORIGIN + "/"}],
                   cookie=consent_cookie(app, version=1), origin=KNIVSTA)  # fmt: skip
    assert crossed.status_code in (202, 400)
    with app.app_context():
        events = db.session.scalars(select(Event)).all()
        per_site = sorted((e.site, e.path) for e in events)
    assert per_site[:3] == [("knivsta.test", "/skola"), ("knivsta.test", "/skola/2"),
                            ("uppsala.se", "/bo")]  # fmt: skip


def idea(client: object, origin: str, title: str) -> int:
    form = client.get("/api/v1/ideas/form", headers={"Origin": origin}).json  # type: ignore[attr-defined]
    body = {"title": title, "body": "Beskrivning av idén.", "area": form["areas"][0]["id"],
            "form_token": form["form_token"]}  # fmt: skip
    response = client.post("/api/v1/ideas", data=json.dumps(body),  # type: ignore[attr-defined]
                           content_type="application/json", headers={"Origin": origin})  # fmt: skip
    return int(response.status_code)


def test_ideas_go_to_the_site_they_came_from_and_scoped_staff_see_only_theirs(
    tmp_path: Path,
) -> None:
    app = two_sites(tmp_path)
    citizen = app.test_client()
    assert idea(citizen, HOST_ORIGIN, "Bänkar vid Fyrisån") == 201
    assert idea(citizen, KNIVSTA, "Cykelställ vid stationen i Knivsta") == 201
    with app.app_context():
        assert sorted((i.site, i.title) for i in db.session.scalars(select(Idea))) == [
            ("knivsta.test", "Cykelställ vid stationen i Knivsta"),
            ("uppsala.se", "Bänkar vid Fyrisån"),
        ]
    make_staff(app, "knivsta-inno", Role.INNOVATION)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.name == "knivsta-inno")).one()
        user.sites = "knivsta.test"
        db.session.commit()
    staff = app.test_client()
    assert sign_in(staff, "knivsta-inno") == 303
    inbox = staff.get("/admin/ideas").text
    assert "Cykelställ vid stationen i Knivsta" in inbox and "Bänkar vid Fyrisån" not in inbox
    # An unscoped team member works on the default site until they switch.
    make_staff(app, "inno", Role.INNOVATION)
    everyone = app.test_client()
    assert sign_in(everyone, "inno") == 303
    inbox = everyone.get("/admin/ideas").text
    assert "Bänkar vid Fyrisån" in inbox and "Knivsta" not in inbox


def test_staff_of_a_site_no_longer_served_are_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    make_staff(app, "gone", Role.EDITOR)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.name == "gone")).one()
        user.sites = "nowhere.test"
        db.session.commit()
    client = app.test_client()
    assert sign_in(client, "gone") == 303
    assert client.get("/admin/policy").status_code == 403


def test_the_settings_page_without_javascript_stays_on_its_site(tmp_path: Path) -> None:
    app = two_sites(tmp_path)
    client = app.test_client()
    page = client.get(f"/consent?site=knivsta.test&lang=en&next={KNIVSTA}/skola")
    assert page.status_code == 200
    assert 'action="/consent?site=knivsta.test"' in page.text
    assert "site=knivsta.test&amp;lang=sv" in page.text  # the language link keeps the site
    saved = client.post(
        "/consent?site=knivsta.test",
        data={"csrf_token": csrf_token_in(page.data), "action": "accept_all",
              "next": f"{KNIVSTA}/skola", "lang": "en"},
        headers={"Referer": "https://elsewhere.test/"},
    )  # fmt: skip
    assert saved.status_code == 303 and saved.headers["Location"] == f"{KNIVSTA}/skola"
    assert "Domain=knivsta.test" in saved.headers["Set-Cookie"]
    with app.app_context():
        entries = db.session.scalars(select(ConsentEntry)).all()
    assert [(e.site, e.policy_version, e.source) for e in entries] == [("knivsta.test", 1, "nojs")]
    # The default site's page has no site in its links.
    assert 'action="/consent"' in client.get("/consent").text
