"""The permission matrix: each role reaches exactly its pages and calls, and nothing else.

Every URL rule of the app is listed here, either as open to everyone (the citizen API, the
embeds, sign-in) or with the roles that may use it. A new endpoint that is not in the
matrix fails the test until someone decides who may use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.audit.conftest import add_entries
from tests.conftest import make_app
from tests.helpers.staff import PASSWORD

ADMIN, EDITOR, INNOVATION, PRIVACY = Role.ADMIN, Role.EDITOR, Role.INNOVATION, Role.PRIVACY_OFFICER
EVERY_ROLE = frozenset(Role)
PUBLIC = "public"

# Blueprint (or "blueprint.endpoint") → who may use it. Endpoint entries win over blueprints.
MATRIX: dict[str, str | frozenset[Role]] = {
    "static": PUBLIC,
    "consent_api": PUBLIC,
    # The transparency log's checkpoint, key and proofs: public by design (witnesses).
    "audit_log": PUBLIC,
    "consent_page": PUBLIC,
    "embed": PUBLIC,
    "demo": PUBLIC,
    "health": PUBLIC,
    "openapi": PUBLIC,
    "site_files": PUBLIC,  # robots.txt, favicon.ico
    # No staff role: Prometheus sends CONSENT_METRICS_TOKEN (tests/ops/test_metrics.py).
    "metrics": PUBLIC,
    "admin.sign_in_page": PUBLIC,
    "admin.sign_in_submit": PUBLIC,
    "admin.sign_out_submit": PUBLIC,
    "admin.home": EVERY_ROLE,
    # Accounts and the deployment's settings: the admin's alone.
    "admin.users_page": frozenset({ADMIN}),
    "admin.user_create": frozenset({ADMIN}),
    "admin.user_page": frozenset({ADMIN}),
    "admin.user_update": frozenset({ADMIN}),
    "admin.user_disable": frozenset({ADMIN}),
    "admin.user_enable": frozenset({ADMIN}),
    "admin.user_password_link": frozenset({ADMIN}),
    "admin.end_sessions": frozenset({ADMIN}),
    "admin.settings_page": frozenset({ADMIN}),
    # The one-time link is the credential (tests/admin/test_accounts.py).
    "admin.set_password_page": PUBLIC,
    "admin.set_password_submit": PUBLIC,
    "admin.password_page": EVERY_ROLE,
    "admin.password_submit": EVERY_ROLE,
    "audit_admin": frozenset({PRIVACY}),
    # The policy editor: editors and privacy officers draft and publish; only a privacy
    # officer approves (and not their own draft: tests/consent/test_publishing.py).
    "policy_admin": frozenset({EDITOR, PRIVACY}),
    "policy_admin.approve": frozenset({PRIVACY}),
    "policy_preview": frozenset({EDITOR, PRIVACY}),
    "ideas": PUBLIC,  # the citizen's no-JS idea form and status page
    # The open idea page: published ideas, masked, and counts of all ideas.
    "ideas.open_ideas": PUBLIC,
    "ideas_api": PUBLIC,
    "ideas_admin": frozenset({INNOVATION}),
    "ideas_admin.publish": frozenset({INNOVATION}),
    # Challenges (utmaningar): the team publishes and changes them.
    "ideas_admin.challenges_page": frozenset({INNOVATION}),
    "ideas_admin.challenge_page": frozenset({INNOVATION}),
    "ideas_admin.challenge_create": frozenset({INNOVATION}),
    "ideas_admin.challenge_update": frozenset({INNOVATION}),
    # A team member's own mail settings (digest, mentions) and an idea's archive file for the
    # diary: the team's, like the board (the download is in the access log).
    "ideas_admin.mail_settings": frozenset({INNOVATION}),
    "ideas_admin.mail_settings_submit": frozenset({INNOVATION}),
    "ideas_admin.archive_file": frozenset({INNOVATION}),
    # Scorecards, the benefit/effort view, bulk changes and saved filters: the team's own work.
    "ideas_admin.assess": frozenset({INNOVATION}),
    "ideas_admin.matrix_page": frozenset({INNOVATION}),
    "ideas_admin.bulk_change": frozenset({INNOVATION}),
    "ideas_admin.save_filter": frozenset({INNOVATION}),
    "ideas_admin.delete_filter": frozenset({INNOVATION}),
    "ideas_admin.criterion_add": frozenset({INNOVATION}),
    "ideas_admin.criterion_remove": frozenset({INNOVATION}),
    "analytics_api": PUBLIC,  # the tracker's events; stored only with statistics consent
    # No staff role: the statistics API takes a site's read token (Authorization: Bearer),
    # like /metrics (tests/analytics/test_stats_api.py).
    "analytics_stats": PUBLIC,
    # Editors see the statistics; privacy officers the consent figures on the same page.
    "analytics_admin": frozenset({EDITOR, PRIVACY}),
    # Goals are the editors' to set: they decide what their pages are for.
    "analytics_admin.goals_page": frozenset({EDITOR}),
    "analytics_admin.goal_create": frozenset({EDITOR}),
    "analytics_admin.goal_delete": frozenset({EDITOR}),
    # Funnels, like goals, are the editors' to set; the content reports' CSVs are theirs too.
    "analytics_reports": frozenset({EDITOR}),
    # Notes on the chart, shared links and e-mailed reports: the editors' tools too.
    "analytics_admin.annotation_create": frozenset({EDITOR}),
    "analytics_admin.annotation_page": frozenset({EDITOR}),
    "analytics_admin.annotation_update": frozenset({EDITOR}),
    "analytics_admin.annotation_delete": frozenset({EDITOR}),
    "analytics_admin.shares_page": frozenset({EDITOR}),
    "analytics_admin.share_create": frozenset({EDITOR}),
    "analytics_admin.share_revoke": frozenset({EDITOR}),
    "analytics_admin.reports_page": frozenset({EDITOR}),
    "analytics_admin.report_subscribe": frozenset({EDITOR}),
    "analytics_admin.report_unsubscribe": frozenset({EDITOR}),
    # A shared dashboard: public to whoever holds an editor's link (tests/analytics/
    # test_editor_tools.py: unknown 404, revoked or expired 410).
    "analytics_shared": PUBLIC,
    # Editors check their pages; privacy officers keep the reports as evidence.
    "scanner_admin": frozenset({EDITOR, PRIVACY}),
    # The printable report in English: the same report, for the same staff.
    "scanner_admin.report_html_en": frozenset({EDITOR, PRIVACY}),
    # Sites are the deployment's: administrators add and change them. Every role works on
    # a site and may switch between the sites it works on.
    "embed_admin.sites_page": frozenset({ADMIN}),
    "embed_admin.site_create": frozenset({ADMIN}),
    "embed_admin.site_page": frozenset({ADMIN}),
    "embed_admin.site_update": frozenset({ADMIN}),
    "embed_admin.switch_site": EVERY_ROLE,
    # The snippet and its test page: for the editors who paste it (and administrators).
    "embed_admin.snippet_page": frozenset({EDITOR, ADMIN}),
    "embed_admin.snippet_test": frozenset({EDITOR, ADMIN}),
}
SAMPLE_ARGUMENTS = {"IntegerConverter": 1, "NumberConverter": 1, "FloatConverter": 1.0}


def who_may_use(endpoint: str) -> str | frozenset[Role] | None:
    if endpoint in MATRIX:
        return MATRIX[endpoint]
    return MATRIX.get(endpoint.split(".", 1)[0])


def sample_url(rule: Rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        values[name] = SAMPLE_ARGUMENTS.get(type(converter).__name__, "x")
    url = rule.build(values, append_unknown=False)
    assert url is not None
    return url[1]


def calls(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, sample_url(rule)


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("matrix")
    # The matrix is about roles; CSRF tokens are tested with each form.
    app = make_app(tmp, WTF_CSRF_ENABLED=False, CHECKPOINT_KEY=str(tmp / "cp.pem"))
    with app.app_context():
        # Account 1, the one sample URLs name (/admin/staff/1/...), is nobody's client here.
        create_user("matrix-bystander", Role.EDITOR, PASSWORD)
        for role in Role:
            create_user(f"matrix-{role.value}", role, PASSWORD)
    add_entries(app, 2)
    yield app
    app.extensions["consent_db"].dispose()


def client_for(app: Flask, role: Role | None) -> FlaskClient:
    client = app.test_client()
    if role is not None:
        response = client.post(
            "/admin/sign-in", data={"name": f"matrix-{role.value}", "password": PASSWORD}
        )
        assert response.status_code == 303
    return client


def test_every_endpoint_is_in_the_matrix(matrix_app: Flask) -> None:
    missing = sorted({e for e, _, _ in calls(matrix_app) if who_may_use(e) is None})
    assert not missing, f"decide who may use these and add them to MATRIX: {missing}"


def test_the_declared_roles_match_the_matrix(matrix_app: Flask) -> None:
    for endpoint, view in matrix_app.view_functions.items():
        declared = getattr(view, "allowed_roles", None)
        expected = who_may_use(endpoint)
        if expected == PUBLIC:
            assert declared is None, f"{endpoint} is public in the matrix but requires a role"
        else:
            assert declared is not None and frozenset(declared) == expected, endpoint


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_each_role_reaches_exactly_its_pages(matrix_app: Flask, role: Role | None) -> None:
    client = client_for(matrix_app, role)
    reached, refused = [], []
    for endpoint, method, url in calls(matrix_app):
        expected = who_may_use(endpoint)
        if expected == PUBLIC or endpoint == "admin.sign_out_submit":
            continue
        response = client.open(url, method=method)
        location = response.headers.get("Location", "")
        blocked = response.status_code in (401, 403) or (
            response.status_code == 302 and "/admin/sign-in" in location
        )
        assert response.status_code < 500, (endpoint, method, response.status_code)
        (refused if blocked else reached).append(endpoint)
        if role is None:
            assert blocked and response.status_code in (302, 401), (endpoint, method)
        elif blocked:
            assert response.status_code == 403, (endpoint, method)
    assert set(reached).isdisjoint(refused)
    allowed = set()
    for endpoint, _, _ in calls(matrix_app):
        roles = who_may_use(endpoint)
        if isinstance(roles, frozenset) and role in roles:
            allowed.add(endpoint)
    assert set(reached) == allowed
