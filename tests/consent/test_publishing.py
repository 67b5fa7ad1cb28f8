"""The policy editor: draft, approval by another person, publication, and what they record."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import AccessLogEntry, Role
from consent_service.audit.events import LogEvent
from consent_service.audit.models import PolicyText
from consent_service.db import db
from consent_service.sites import store
from consent_service.sites.models import SitePolicy
from tests.conftest import HOST_ORIGIN, POLICY_VERSION, choice_body
from tests.helpers.forms import csrf_token_in
from tests.helpers.staff import make_staff, sign_in


def staff_client(app: Flask, name: str, role: Role) -> FlaskClient:
    make_staff(app, name, role)
    client = app.test_client()
    assert sign_in(client, name) == 303
    return client


def token(client: FlaskClient, path: str) -> str:
    return csrf_token_in(client.get(path).data)


def new_draft(client: FlaskClient, **data: object) -> str:
    response = client.post(
        "/admin/policy/drafts", data={"csrf_token": token(client, "/admin/policy"), **data},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 303, response.data
    return str(response.headers["Location"])


def test_draft_approve_publish_asks_citizens_again(app: Flask) -> None:
    citizen = app.test_client()
    assert citizen.post("/api/v1/consent", json=choice_body()).status_code == 201
    editor = staff_client(app, "redaktor", Role.EDITOR)
    officer = staff_client(app, "dso", Role.PRIVACY_OFFICER)

    draft_url = new_draft(editor)
    page = editor.get(draft_url)
    assert page.status_code == 200 and "Väntar på godkännande" in page.text
    saved = editor.post(draft_url + "/texts", data={
        "csrf_token": csrf_token_in(page.data), "text.sv.title": "Kakor på Uppsala kommuns webb",
    })  # fmt: skip
    assert saved.status_code == 303
    page = editor.get(draft_url)
    assert "Kakor på Uppsala kommuns webb" in page.text and "texts.sv.title" in page.text
    added = editor.post(draft_url + "/declarations", data={
        "csrf_token": csrf_token_in(page.data), "name": "sitevision*", "category": "functional",
        "provider": "Sitevision", "party": "first", "purpose.sv": "Kommer ihåg inställningar",
        "purpose.en": "Remembers settings", "lifetime.sv": "1 år", "lifetime.en": "1 year",
        "storage": "sv-pref sv-layout*",
    })  # fmt: skip
    assert added.status_code == 303

    # The author cannot approve; an editor cannot approve; nobody publishes before approval.
    refused = editor.post(draft_url + "/approve", data={"csrf_token": token(editor, draft_url)})
    assert refused.status_code == 403
    early = editor.post(draft_url + "/publish", data={"csrf_token": token(editor, draft_url)})
    assert early.status_code == 409 and "must approve it first" in early.text
    approved = officer.post(draft_url + "/approve", data={"csrf_token": token(officer, draft_url)})
    assert approved.status_code == 303
    published = editor.post(draft_url + "/publish", data={"csrf_token": token(editor, draft_url)})
    assert published.status_code == 303

    policy = citizen.get("/api/v1/policy").json
    assert policy["version"] == POLICY_VERSION + 1
    assert policy["texts"]["sv"]["title"] == "Kakor på Uppsala kommuns webb"
    assert {"name": "sitevision*", "category": "functional"} in policy["cookies"]
    # The returning citizen answered the old version: asked again, and the new text is logged.
    assert citizen.get("/api/v1/consent").json["current"] is False
    again = citizen.post("/api/v1/consent", json=choice_body(policy_version=policy["version"]))
    assert again.status_code == 201
    with app.app_context():
        texts = db.session.scalars(
            select(PolicyText).where(PolicyText.version == policy["version"])
        ).all()
        assert {t.language: t.text_hash for t in texts} == policy["text_hashes"]
        events = db.session.scalars(select(LogEvent).order_by(LogEvent.seq)).all()
        assert [(e.kind, e.actor) for e in events] == [
            ("policy_approved", "dso"),
            ("policy_published", "redaktor"),
        ]
        actions = db.session.scalars(select(AccessLogEntry.action)).all()
        assert {"policy_draft", "policy_approve", "policy_publish"} <= set(actions)
        row = db.session.scalars(
            select(SitePolicy).where(SitePolicy.version == policy["version"])
        ).one()
        assert (row.author, row.approved_by, row.published_by) == ("redaktor", "dso", "redaktor")
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_change_after_approval_needs_approval_again(app: Flask) -> None:
    editor = staff_client(app, "redaktor", Role.EDITOR)
    officer = staff_client(app, "dso", Role.PRIVACY_OFFICER)
    draft_url = new_draft(editor)
    officer.post(draft_url + "/approve", data={"csrf_token": token(officer, draft_url)})
    assert "Godkänt av dso" in editor.get(draft_url).text
    editor.post(draft_url + "/texts", data={"csrf_token": token(editor, draft_url),
                                            "text.en.title": "Cookies, changed"})  # fmt: skip
    assert "Väntar på godkännande" in editor.get(draft_url).text
    late = editor.post(draft_url + "/publish", data={"csrf_token": token(editor, draft_url)})
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/texts", {"text.sv.title": ""}, "får inte vara tom"),
        ("/texts", {"text.sv.title": "x" * 2001}, "högst 2000 tecken"),
        ("/texts", {"text.sv.title": "a\x00b"}, "tecken som inte kan visas"),
        (
            "/declarations",
            {
                "name": "bad name",
                "category": "functional",
                "provider": "X",
                "purpose.sv": "s",
                "purpose.en": "p",
                "lifetime.sv": "l",
                "lifetime.en": "l",
            },
            "not a cookie name",
        ),
        (
            "/declarations",
            {
                "name": "x",
                "category": "marketing",
                "provider": "X",
                "purpose.sv": "s",
                "purpose.en": "p",
                "lifetime.sv": "l",
                "lifetime.en": "l",
            },
            "unknown category",
        ),
        ("/declarations", {"name": "x", "category": "functional", "provider": "X"}, "behövs"),
        ("/declarations/delete", {"name": "nothing"}, "finns inte"),
    ],
)
def test_bad_edits_are_refused_and_lose_nothing(
    app: Flask, path: str, data: dict[str, str], message: str
) -> None:
    editor = staff_client(app, "redaktor", Role.EDITOR)
    draft_url = new_draft(editor)
    with app.app_context():
        before = db.session.scalars(select(SitePolicy.document).where(SitePolicy.id > 1)).one()
    response = editor.post(draft_url + path, data={"csrf_token": token(editor, draft_url), **data})
    assert response.status_code == 400 and message in response.text
    with app.app_context():
        after = db.session.scalars(select(SitePolicy.document).where(SitePolicy.id > 1)).one()
    assert after == before


def test_imports_forgeries_and_missing_tokens_are_refused(app: Flask) -> None:
    editor = staff_client(app, "redaktor", Role.EDITOR)
    too_big = editor.post("/admin/policy/drafts", data={
        "csrf_token": token(editor, "/admin/policy"),
        "policy_file": (io.BytesIO(b"#" * (300 * 1024)), "big.toml"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert too_big.status_code in (400, 413)
    broken = editor.post("/admin/policy/drafts", data={
        "csrf_token": token(editor, "/admin/policy"),
        "policy_file": (io.BytesIO(b"\xff\xfe not toml"), "bad.toml"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert broken.status_code == 400 and "TOML" in broken.text
    assert editor.get("/admin/policy/drafts/999").status_code == 404
    draft_url = new_draft(editor)
    assert editor.post(draft_url + "/texts", data={"text.sv.title": "x"}).status_code == 400
    forged = editor.post(
        "/admin/policy/drafts/999/publish", data={"csrf_token": token(editor, draft_url)}
    )
    assert forged.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(SitePolicy)).all()[-1].status == "draft"


def test_the_preview_renders_the_draft_and_saves_nothing(app: Flask) -> None:
    editor = staff_client(app, "redaktor", Role.EDITOR)
    draft_url = new_draft(editor)
    editor.post(draft_url + "/texts", data={"csrf_token": token(editor, draft_url),
                                            "text.en.title": "Draft cookies"})  # fmt: skip
    preview = editor.get(draft_url + "/preview?lang=en")
    assert preview.status_code == 200 and "preview/frame?lang=en&amp;layer=first" in preview.text
    frame = editor.get(draft_url + "/preview/frame?lang=en&layer=settings")
    assert frame.status_code == 200 and '<html lang="en"' in frame.text
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    script = editor.get(draft_url + "/preview/consent.js", headers={"Accept-Encoding": "identity"})
    assert b'"cookie": "consent-preview"' in script.data and b"/preview/api" in script.data
    policy = editor.get(draft_url + "/preview/api/policy").json
    assert policy["texts"]["en"]["title"] == "Draft cookies"
    refused = editor.post(
        draft_url + "/preview/api/consent", json={}, headers={"Origin": HOST_ORIGIN}
    )
    assert refused.status_code == 409
    assert app.test_client().get(draft_url + "/preview/api/policy").status_code in (302, 401)


def test_a_declaration_is_changed_in_place(app: Flask) -> None:
    editor = staff_client(app, "redaktor", Role.EDITOR)
    draft_url = new_draft(editor)
    form = editor.get(draft_url + "?edit=_pk_id.*")
    assert form.status_code == 200 and 'name="replace" value="_pk_id.*"' in form.text
    assert "Ändra deklarationen _pk_id.*" in form.text
    with app.app_context():
        before = [c["name"] for c in store.draft_document(latest_draft())["cookies"]]
    changed = editor.post(draft_url + "/declarations", data={
        "csrf_token": csrf_token_in(form.data), "replace": "_pk_id.*", "name": "_pk_id.*",
        "category": "statistics", "provider": "Matomo (egen server)", "party": "first",
        "purpose.sv": "Känner igen en återkommande besökare", "purpose.en": "Recognises a visitor",
        "lifetime.sv": "13 månader", "lifetime.en": "13 months",
    })  # fmt: skip
    assert changed.status_code == 303
    with app.app_context():
        cookies = store.draft_document(latest_draft())["cookies"]
    assert [c["name"] for c in cookies] == before  # same place, same set
    assert next(c for c in cookies if c["name"] == "_pk_id.*")["provider"] == "Matomo (egen server)"
    gone = editor.post(draft_url + "/declarations", data={
        "csrf_token": csrf_token_in(form.data), "replace": "nothing", "name": "x",
        "category": "statistics", "provider": "X", "purpose.sv": "s", "purpose.en": "p",
        "lifetime.sv": "l", "lifetime.en": "l",
    })  # fmt: skip
    assert gone.status_code == 400 and "finns inte" in gone.text


def latest_draft() -> SitePolicy:
    return db.session.scalars(
        select(SitePolicy).where(SitePolicy.status == "draft").order_by(SitePolicy.id.desc())
    ).first()
