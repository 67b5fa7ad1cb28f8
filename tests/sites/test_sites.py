"""Several sites served by one deployment: each request's site, its origins, cookie and policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.audit.models import ConsentEntry
from consent_service.db import db
from consent_service.sites import services, store
from consent_service.sites.models import SitePolicy
from tests.conftest import HOST_ORIGIN, POLICY_VERSION, choice_body, make_app

KNIVSTA = "https://www.knivsta.test"


def add_knivsta(runner_app: Flask, *extra: str) -> None:
    result = runner_app.test_cli_runner().invoke(
        args=["sites", "add", "knivsta.test", "--origin", KNIVSTA,
              "--cookie-domain", ".knivsta.test", *extra]
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_a_single_site_deployment_needs_nothing_new(app: Flask, client: FlaskClient) -> None:
    policy = client.get("/api/v1/policy").json
    assert policy["site"] == "uppsala.se" and policy["version"] == POLICY_VERSION
    result = app.test_cli_runner().invoke(args=["sites", "list"])
    assert result.exit_code == 0
    assert result.output.startswith("uppsala.se (default: from the settings)")
    # `db upgrade` published the policy file's version into the table.
    with app.app_context():
        rows = db.session.scalars(select(SitePolicy)).all()
    assert [(r.site, r.version, r.status) for r in rows] == [
        ("uppsala.se", POLICY_VERSION, "published")
    ]


def test_a_new_site_answers_at_once_with_a_copy_of_the_default_policy(
    app: Flask, client: FlaskClient
) -> None:
    add_knivsta(app)
    named = client.get("/api/v1/policy?site=knivsta.test").json
    assert named["site"] == "knivsta.test" and named["version"] == 1
    by_origin = client.get("/api/v1/policy", headers={"Origin": KNIVSTA})
    assert by_origin.json["site"] == "knivsta.test"
    assert by_origin.headers["Access-Control-Allow-Origin"] == KNIVSTA
    # The embed names its site; the other site's texts are the default's, for now.
    script = client.get("/embed/consent.js?site=knivsta.test")
    assert script.status_code == 200 and b'"version": 1' in script.data
    listed = app.test_cli_runner().invoke(args=["sites", "list"]).output.splitlines()
    assert listed[1].startswith("knivsta.test\tversion 1\thttps://www.knivsta.test\t.knivsta.test")


def test_each_site_records_its_own_choices_with_its_cookie_domain(
    app: Flask, client: FlaskClient
) -> None:
    add_knivsta(app)
    knivsta = client.post(
        "/api/v1/consent", json=choice_body(policy_version=1), headers={"Origin": KNIVSTA}
    )
    assert knivsta.status_code == 201, knivsta.json
    assert "Domain=knivsta.test" in knivsta.headers["Set-Cookie"]
    other = app.test_client()
    uppsala = other.post("/api/v1/consent", json=choice_body(), headers={"Origin": HOST_ORIGIN})
    assert uppsala.status_code == 201
    with app.app_context():
        sites = {e.consent_id: e.site for e in db.session.scalars(select(ConsentEntry))}
    assert sites == {knivsta.json["consent_id"]: "knivsta.test",
                     uppsala.json["consent_id"]: "uppsala.se"}  # fmt: skip


def test_a_site_refuses_another_sites_origin_and_unknown_sites(
    app: Flask, client: FlaskClient
) -> None:
    add_knivsta(app)
    crossed = client.post(
        "/api/v1/consent?site=uppsala.se", json=choice_body(), headers={"Origin": KNIVSTA}
    )
    assert crossed.status_code == 403 and crossed.json["error"] == "forbidden_origin"
    unknown = client.get("/api/v1/policy?site=nowhere.test")
    assert unknown.status_code == 404 and unknown.json["error"] == "unknown_site"
    assert client.get("/embed/consent.js?site=nowhere.test").status_code == 404
    assert client.get("/consent?site=%3Cscript%3E").status_code == 404
    # A stale version of the other site's policy is refused, not recorded.
    stale = client.post(
        "/api/v1/consent", json=choice_body(policy_version=POLICY_VERSION + 5),
        headers={"Origin": KNIVSTA},
    )  # fmt: skip
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.scalars(select(ConsentEntry)).all() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad domain!", "--origin", KNIVSTA], "is not a domain name"),
        (["knivsta.test", "--origin", "knivsta.test"], "is not an origin"),
        (["knivsta.test", "--origin", HOST_ORIGIN], "already belongs to the site uppsala.se"),
        (["uppsala.se", "--origin", KNIVSTA], "exists already"),
        (["knivsta.test", "--origin", KNIVSTA, "--time-zone", "Mars/Olympus"], "time zone"),
        (["knivsta.test", "--origin", KNIVSTA, "--cookie-domain", "a b"], "domain name"),
    ],
)
def test_sites_add_refuses_bad_input(app: Flask, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(args=["sites", "add", *args])
    assert result.exit_code == 2 and message in result.output
    with app.app_context():
        assert {s.domain for s in services.all_sites()} == {"uppsala.se"}


def test_overlapping_cookie_domains_are_refused(app: Flask) -> None:
    add_knivsta(app)
    result = app.test_cli_runner().invoke(
        args=["sites", "add", "bibliotek.knivsta.test", "--origin", "https://bibliotek.knivsta.test",
              "--cookie-domain", "bibliotek.knivsta.test"]
    )  # fmt: skip
    assert result.exit_code == 2 and "overlaps the site knivsta.test" in result.output


def test_policy_export_and_import_round_trip(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["policy", "export"])
    assert exported.exit_code == 0 and 'site = "uppsala.se"' in exported.output
    edited = exported.output.replace('title = "Kakor på uppsala.se"', 'title = "Kakor hos oss"')
    assert edited != exported.output
    path = tmp_path / "policy.toml"
    path.write_text(edited.replace(f"version = {POLICY_VERSION}", "version = 99"), "utf-8")
    imported = runner.invoke(args=["policy", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    with app.app_context():
        draft = db.session.scalars(select(SitePolicy).where(SitePolicy.status == "draft")).one()
        document = store.draft_document(draft)
    assert document["texts"]["sv"]["title"] == "Kakor hos oss"
    assert draft.version is None and draft.based_on == POLICY_VERSION
    broken = tmp_path / "broken.toml"
    broken.write_text('version = "one', "utf-8")
    refused = runner.invoke(args=["policy", "import", str(broken)])
    assert refused.exit_code == 2 and "not UTF-8 TOML" in refused.output
    invalid = tmp_path / "invalid.toml"
    invalid.write_text(edited.replace('name = "_pk_id.*"', 'name = "bad name"'), "utf-8")
    refused = runner.invoke(args=["policy", "import", str(invalid)])
    assert refused.exit_code == 2 and "not valid" in refused.output


def test_a_site_from_a_policy_file_keeps_that_policy(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    policy = tmp_path / "knivsta.toml"
    exported = app.test_cli_runner().invoke(args=["policy", "export"]).output
    policy.write_text(exported.replace("Kakor på uppsala.se", "Kakor i Knivsta"), "utf-8")
    add_knivsta(app, "--policy", str(policy))
    texts = app.test_client().get("/api/v1/policy?site=knivsta.test").json["texts"]
    assert texts["sv"]["title"] == "Kakor i Knivsta"


def test_the_openapi_document_names_the_site_parameter(client: FlaskClient) -> None:
    policy = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/policy"]["get"]
    assert [p["name"] for p in policy["parameters"]] == ["site"]
    assert "404" in policy["responses"]
