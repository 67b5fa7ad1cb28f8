"""The sites' staff pages, the site switcher and the snippet generator over HTTP."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import AccessLogEntry, Role, User
from consent_service.db import db
from consent_service.embed.snippet import host_csp
from consent_service.sites.models import Site
from consent_service.sites.services import all_sites, default_site
from consent_service.sites.store import add_site
from tests.conftest import choice_body
from tests.helpers.forms import form_token
from tests.helpers.staff import sign_in_as

SECOND = "knivsta.test"
SECOND_ORIGIN = "https://www.knivsta.test"


def new_site(**overrides: str) -> dict[str, str]:
    form = {
        "domain": SECOND,
        "origins": f"{SECOND_ORIGIN}\nhttps://kommun.knivsta.test",
        "cookie_domain": ".knivsta.test",
        "time_zone": "Europe/Stockholm",
    }
    form.update(overrides)
    return form


def stored_sites(app: Flask) -> dict[str, Site]:
    with app.app_context():
        return {s.domain: s for s in db.session.scalars(select(Site))}


def access_log(app: Flask, action: str) -> list[AccessLogEntry]:
    with app.app_context():
        return list(
            db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == action))
        )


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    sign_in_as(app, client, Role.ADMIN, "chef")
    return client


def add_second(app: Flask) -> None:
    with app.app_context():
        add_site(SECOND, [SECOND_ORIGIN], cookie_domain=".knivsta.test", by="test")


def test_the_list_shows_every_site_and_only_others_are_editable(
    app: Flask, admin: FlaskClient
) -> None:
    add_second(app)
    html = admin.get("/admin/sites").get_data(as_text=True)
    with app.app_context():
        default = default_site()
    assert default.domain in html and SECOND in html
    assert f'href="/admin/sites/{SECOND}"' in html
    assert f'href="/admin/sites/{default.domain}"' not in html
    assert admin.get(f"/admin/sites/{default.domain}").status_code == 404
    assert admin.get("/admin/sites/no-such.test").status_code == 404


def test_adding_a_site(app: Flask, admin: FlaskClient) -> None:
    token = form_token(admin, "/admin/sites")
    response = admin.post("/admin/sites", data={"csrf_token": token, **new_site()})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/sites?added={SECOND}")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "är tillagd" in page
    row = stored_sites(app)[SECOND]
    assert json.loads(row.origins) == sorted([SECOND_ORIGIN, "https://kommun.knivsta.test"])
    assert (row.cookie_domain, row.time_zone, row.created_by) == (
        ".knivsta.test",
        "Europe/Stockholm",
        "chef",
    )
    with app.app_context():
        assert SECOND in {s.domain for s in all_sites()}
    [entry] = access_log(app, "site_create")
    assert (entry.actor, entry.outcome, entry.details["domain"]) == ("chef", "ok", SECOND)


def test_a_form_without_its_token_changes_nothing(app: Flask, admin: FlaskClient) -> None:
    assert admin.post("/admin/sites", data=new_site()).status_code == 400
    assert stored_sites(app) == {}
    add_second(app)
    response = admin.post(
        f"/admin/sites/{SECOND}", data={"origins": "https://evil.test", "time_zone": "UTC"}
    )
    assert response.status_code == 400
    assert json.loads(stored_sites(app)[SECOND].origins) == [SECOND_ORIGIN]
    assert admin.post("/admin/site", data={"site": SECOND}).status_code == 400


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"domain": "not a domain"}, "domain", "is not a domain name"),
        ({"domain": "x" * 5000}, "domain", "is not a domain name"),
        ({"origins": ""}, "origins", "at least one origin"),
        ({"origins": "https://www.knivsta.test/path"}, "origins", "origin"),
        ({"origins": "*"}, "origins", "origin"),
        ({"origins": "https://www.uppsala.test"}, "origins", "already belongs to the site"),
        ({"cookie_domain": "not/a domain"}, "cookie_domain", "is not a domain name"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "is not a time zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "is not a time zone"),
    ],
)
def test_refused_input_is_shown_beside_its_field_and_nothing_is_lost(
    app: Flask, admin: FlaskClient, overrides: dict[str, str], field: str, reason: str
) -> None:
    token = form_token(admin, "/admin/sites")
    form = new_site(**overrides)
    response = admin.post("/admin/sites", data={"csrf_token": token, **form})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert reason in html
    assert f'id="f-{field}-error"' in html
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', html)
    assert 'href="#f-' + field + '"' in html
    # What was typed comes back, for every field.
    assert "https://kommun.knivsta.test" in html or field == "origins"
    assert ".knivsta.test" in html or field == "cookie_domain"
    assert stored_sites(app) == {}
    [entry] = access_log(app, "site_create")
    assert entry.outcome == "refused"


def test_an_existing_domain_is_refused(app: Flask, admin: FlaskClient) -> None:
    add_second(app)
    token = form_token(admin, "/admin/sites")
    form = new_site(origins="https://ny.knivsta.test", cookie_domain="")
    response = admin.post("/admin/sites", data={"csrf_token": token, **form})
    assert response.status_code == 400
    assert "exists already" in response.get_data(as_text=True)
    with app.app_context():
        default = default_site().domain
    form = new_site(domain=default, origins="https://ny.knivsta.test", cookie_domain="")
    response = admin.post("/admin/sites", data={"csrf_token": token, **form})
    assert response.status_code == 400
    assert json.loads(stored_sites(app)[SECOND].origins) == [SECOND_ORIGIN]


def test_changing_a_site(app: Flask, admin: FlaskClient) -> None:
    add_second(app)
    page = admin.get(f"/admin/sites/{SECOND}").get_data(as_text=True)
    assert SECOND_ORIGIN in page and "Europe/Stockholm" in page
    token = form_token(admin, f"/admin/sites/{SECOND}")
    form = {"origins": "https://ny.knivsta.test", "cookie_domain": "", "time_zone": "UTC"}
    response = admin.post(f"/admin/sites/{SECOND}", data={"csrf_token": token, **form})
    assert response.status_code == 303
    assert "sparade" in admin.get(response.headers["Location"]).get_data(as_text=True)
    row = stored_sites(app)[SECOND]
    assert (json.loads(row.origins), row.cookie_domain, row.time_zone) == (
        ["https://ny.knivsta.test"],
        None,
        "UTC",
    )
    [entry] = access_log(app, "site_change")
    assert entry.details["before"]["origins"] == [SECOND_ORIGIN]
    assert entry.details["after"]["time_zone"] == "UTC"

    form = {"origins": "https://www.uppsala.test", "cookie_domain": "", "time_zone": "UTC"}
    response = admin.post(f"/admin/sites/{SECOND}", data={"csrf_token": token, **form})
    assert response.status_code == 400
    assert "already belongs to the site" in response.get_data(as_text=True)
    assert json.loads(stored_sites(app)[SECOND].origins) == ["https://ny.knivsta.test"]
    with app.app_context():
        default = default_site().domain
    response = admin.post(f"/admin/sites/{default}", data={"csrf_token": token, **form})
    assert response.status_code == 404


def test_the_switcher_shows_with_two_sites_and_sets_the_staff_site(
    app: Flask, admin: FlaskClient
) -> None:
    assert 'name="site"' not in admin.get("/admin/").get_data(as_text=True)
    add_second(app)
    with app.app_context():
        default = default_site().domain
    home = admin.get("/admin/").get_data(as_text=True)
    assert f'<option value="{SECOND}">' in home
    assert f'<option value="{default}" selected>' in home
    token = form_token(admin, "/admin/")
    response = admin.post(
        "/admin/site", data={"csrf_token": token, "site": SECOND, "next": "/admin/snippet"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/snippet")
    with admin.session_transaction() as session:
        assert session["site"] == SECOND
    assert f'<option value="{SECOND}" selected>' in admin.get("/admin/").get_data(as_text=True)
    # Somewhere else than this service: back to the start page.
    response = admin.post(
        "/admin/site",
        data={"csrf_token": token, "site": default, "next": "https://evil.test/"},
    )
    assert response.headers["Location"].endswith("/admin/")
    response = admin.post("/admin/site", data={"csrf_token": token, "site": "nowhere.test"})
    assert response.status_code == 400
    with admin.session_transaction() as session:
        assert session["site"] == default


def test_staff_scoped_to_sites_choose_only_theirs(app: Flask, client: FlaskClient) -> None:
    add_second(app)
    with app.app_context():
        add_site("tierp.test", ["https://www.tierp.test"], by="test")
        default = default_site().domain
    sign_in_as(app, client, Role.EDITOR, "redaktor")
    with app.app_context(), db.writing() as session:
        user = session.scalar(select(User).where(User.name == "redaktor"))
        assert user is not None
        user.sites = f"{SECOND} tierp.test"
    home = client.get("/admin/").get_data(as_text=True)
    assert f'<option value="{SECOND}"' in home and f'<option value="{default}"' not in home
    token = form_token(client, "/admin/")
    assert client.post("/admin/site", data={"csrf_token": token, "site": default}).status_code == (
        400
    )
    assert client.post(
        "/admin/site", data={"csrf_token": token, "site": "tierp.test"}
    ).status_code == (303)
    assert "site=tierp.test" in client.get("/admin/snippet").get_data(as_text=True)


def test_the_snippet_names_the_chosen_site(app: Flask, client: FlaskClient) -> None:
    add_second(app)
    sign_in_as(app, client, Role.EDITOR)
    with app.app_context():
        default = default_site().domain
    html = client.get("/admin/snippet").get_data(as_text=True)
    assert f"http://localhost/embed/consent.js?site={default}" in html
    token = form_token(client, "/admin/")
    client.post("/admin/site", data={"csrf_token": token, "site": SECOND})
    html = client.get("/admin/snippet").get_data(as_text=True)
    for expected in (
        f"&lt;script src=&#34;http://localhost/embed/consent.js?site={SECOND}&#34; defer "
        "nonce=&#34;{NONCE}&#34;&gt;&lt;/script&gt;",
        "data-consent=&#34;statistics&#34;",
        "data-src=&#34;https://www.youtube-nocookie.com/embed/VIDEO-ID&#34;",
        "data-consent-open",
        "data-consent-withdraw",
        f"http://localhost/consent?site={SECOND}&amp;amp;lang=sv",
        "data-idea-widget",
        f"http://localhost/embed/ideas.js?site={SECOND}",
        "data-consent-declaration",
        "connect-src &#39;self&#39; http://localhost",
        "frame-src https://www.youtube-nocookie.com",
    ):
        assert expected in html, expected
    assert f"?site={default}" not in html


def test_the_test_page_runs_the_snippet_under_the_csp_it_gives(
    app: Flask, client: FlaskClient
) -> None:
    add_second(app)
    sign_in_as(app, client, Role.ADMIN)
    token = form_token(client, "/admin/")
    client.post("/admin/site", data={"csrf_token": token, "site": SECOND})
    response = client.get("/admin/snippet/test")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/snippet/test?site={SECOND}")
    # A stale address (another site than the one chosen) goes to the chosen one.
    response = client.get("/admin/snippet/test?site=uppsala.se")
    assert response.headers["Location"].endswith(f"/admin/snippet/test?site={SECOND}")
    response = client.get(f"/admin/snippet/test?site={SECOND}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    stand_in = "http://localhost/static/demo/statistics.js"
    assert response.headers["Content-Security-Policy"] == (
        host_csp("http://localhost", nonce[1], stand_in) + "; frame-ancestors 'none'"
    )
    assert (
        f'<script src="http://localhost/embed/consent.js?site={SECOND}" defer '
        f'nonce="{nonce[1]}"></script>'
    ) in html
    assert 'data-src="https://www.youtube-nocookie.com/embed/VIDEO-ID"' in html
    assert f'<script type="text/plain" data-consent="statistics" src="{stand_in}">' in html


def test_the_banner_on_the_test_page_speaks_for_the_test_page_site(
    app: Flask, client: FlaskClient
) -> None:
    """The test page is on the service's own origin, which belongs to no site: its address
    names the site, and the banner's requests (same origin) are resolved by it."""
    add_second(app)
    with app.app_context():
        default = default_site()
    page = f"http://localhost/admin/snippet/test?site={SECOND}"
    response = client.get("/api/v1/policy", headers={"Referer": page})
    assert response.get_json()["site"] == SECOND
    body = json.dumps(choice_body(policy_version=1)).encode()
    response = client.post(
        "/api/v1/consent",
        data=body,
        content_type="application/json",
        headers={"Origin": "http://localhost", "Referer": page},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    # A page of another origin cannot borrow it: its own origin decides.
    response = client.get(
        "/api/v1/policy", headers={"Referer": f"https://evil.test/?site={SECOND}"}
    )
    assert response.get_json()["site"] == default.domain
