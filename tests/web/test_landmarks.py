"""Staff and public pages: no landmark nested in one with the same name (screen readers
announce both, and a landmark list shows the name twice)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from tests.analytics.conftest import consent_cookie, pageview, send
from tests.conftest import choice_body
from tests.helpers.landmarks import nested_landmarks_with_the_same_name
from tests.helpers.staff import sign_in_as

PAGES = [
    (Role.EDITOR, "/admin/statistics/"),
    (Role.PRIVACY_OFFICER, "/admin/statistics/"),
    (Role.PRIVACY_OFFICER, "/admin/audit/"),
    (Role.PRIVACY_OFFICER, "/admin/audit/charts"),
    (Role.PRIVACY_OFFICER, "/admin/audit/retention"),
    (Role.PRIVACY_OFFICER, "/admin/audit/access-log"),
    (Role.PRIVACY_OFFICER, "/admin/audit/entries/1"),
    (Role.ADMIN, "/admin/staff"),
    (Role.INNOVATION, "/admin/ideas/evaluation"),
    (None, "/ideas"),
    (None, "/consent?lang=sv"),
]


def test_the_checker_finds_a_repeated_name() -> None:
    html = (
        '<section aria-labelledby="h"><h2 id="h">Sidor</h2>'
        '<div role="region" aria-labelledby="h" tabindex="0"><table></table></div></section>'
    )
    assert nested_landmarks_with_the_same_name(html) == [("h|None", "h|None")]


@pytest.mark.parametrize(("role", "path"), PAGES)
def test_no_landmark_repeats_its_ancestors_name(
    app: Flask, client: FlaskClient, role: Role | None, path: str
) -> None:
    client.post("/api/v1/consent", json=choice_body(statistics=True))
    send(client, [pageview("/bo-och-leva")], cookie=consent_cookie(app))
    viewer = app.test_client()
    if role is not None:
        sign_in_as(app, viewer, role)
    response = viewer.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    assert nested_landmarks_with_the_same_name(response.get_data(as_text=True)) == []
