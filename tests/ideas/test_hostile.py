"""Hostile input in every field never becomes markup on the board, the status page or in
exports (the browser tests check that nothing runs, too)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.ideas.services import status_token
from tests.ideas.conftest import csrf_token, submit

# Each payload would run script if it reached a page unescaped.
XSS_PAYLOADS = [
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1">',
    "'><svg onload=window.__xss=1>",
    "</textarea><script>window.__xss=1</script>",
    '<iframe srcdoc="<script>parent.__xss=1</script>">',
    "javascript:window.__xss=1",
    '<a href="javascript:window.__xss=1">x</a>',
    "{{7*7}}{% raw %}${7*7}{% endraw %}<style>*{display:none}</style>",
    "\u202e<b onmouseover=window.__xss=1>rtl</b>",
]
MARKUP = (
    "<script>window",
    "<img src=x",
    "<svg onload",
    "<iframe srcdoc",
    '<a href="javascript',
    "<style>*",
    "<b onmouseover",
    "</textarea><script",
)


def hostile_idea(client: FlaskClient, payload: str) -> str:
    response = submit(
        client,
        title=payload[:120],
        body=f"{payload}\n{payload}",
        topic=payload[:64],
        page="https://www.uppsala.test/" + payload[:100],
        name=payload[:120],
        # The address rule lets through only dot-atom characters; these still need escaping.
        email=(re.sub(r"[^\w!#$%&'*+/=?^`{|}~-]", "", payload)[:60] or "x") + "@example.se",
        contact_ok=True,
    )
    assert response.status_code == 201, response.json
    return str(response.json["reference"])


def assert_inert(html: str, payload: str) -> None:
    for marker in MARKUP:
        if marker in payload:
            assert marker not in html, (marker, payload)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_stay_text_everywhere(app: Flask, team: FlaskClient, payload: str) -> None:
    ref = hostile_idea(team, payload)
    token = csrf_token(team, f"/admin/ideas/{ref}")
    team.post(f"/admin/ideas/{ref}/tags", data={"csrf_token": token, "tag": payload[:40]})
    team.post(f"/admin/ideas/{ref}/notes", data={"csrf_token": token, "body": payload})
    team.post(f"/admin/ideas/{ref}/messages", data={"csrf_token": token, "body": payload})
    pages = [
        "/admin/ideas",
        "/admin/ideas/board",
        f"/admin/ideas/{ref}",
        "/admin/ideas/list?stage=new&tag=" + payload[:40],
        "/admin/ideas/portfolio",
        "/admin/ideas/evaluation",
    ]
    for page in pages:
        response = team.get(page)
        assert response.status_code == 200, page
        assert_inert(response.get_data(as_text=True), payload)
    with app.test_request_context():
        status = f"/ideas/status/{status_token(ref)}"
    citizen = app.test_client()
    status_html = citizen.get(status).get_data(as_text=True)
    assert_inert(status_html, payload)
    if "{{7*7}}" in payload:
        assert "{{7*7}}" in status_html  # shown as typed, never evaluated as a template
    assert (
        citizen.get(status, headers={"Accept": "application/json"}).json["title"] == payload[:120]
    )
    exported = team.get("/admin/ideas/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][11] in (payload[:120].strip(), "'" + payload[:120].strip())  # literal text
