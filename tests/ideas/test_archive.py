"""An idea's archive file for the diary: self-contained HTML, registration data and the whole
history, for the innovation team only, every download in the access log."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import AccessLogEntry, Role
from consent_service.db import db
from tests.ideas.conftest import csrf_token, make_staff, sign_in, submit


def test_the_archive_file_holds_registration_and_history(app: Flask, team: FlaskClient) -> None:
    reference = submit(
        team, title="Fler bänkar", body="Ring 070-123 45 67.", name="Ada",
        email="ada@example.se", contact_ok=True,
    ).json["reference"]  # fmt: skip
    token = csrf_token(team, f"/admin/ideas/{reference}")
    team.post(
        f"/admin/ideas/{reference}/move",
        data={"csrf_token": token, "stage": "undersoka", "message": "Vi tittar på platserna."},
    )
    team.post(f"/admin/ideas/{reference}/notes", data={"csrf_token": token, "body": "Hemligt"})
    page = team.get(f"/admin/ideas/{reference}").get_data(as_text=True)
    assert f"/admin/ideas/{reference}/archive.html" in page

    response = team.get(f"/admin/ideas/{reference}/archive.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{reference}-arkiv.html"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    for fact in (reference, "Inkom", "Trafik", "Utmaning", "Undersöka", "Fler bänkar"):
        assert fact in html, fact
    # The record as received (the diary keeps the public record unmasked), the public message
    # and every history line, oldest first; no contact details, no internal note.
    assert "Ring 070-123 45 67." in html and "Vi tittar på platserna." in html
    lines = re.findall(r"<td>([^<]*)</td></tr>", html)
    assert lines[:2] == ["Idén kom in", "Flyttad från Inkorg till Undersöka"]
    assert "Intern anteckning" in html and "Hemligt" not in html
    assert "ada@example.se" not in html and "Ada" not in html.replace("Adan", "")
    # Self-contained: nothing to load, no script.
    assert "<script" not in html and "src=" not in html and "<link" not in html
    assert not re.search(r"https?://", html)

    with app.app_context():
        (entry,) = db.session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.action == "export")
        ).all()
    assert entry.actor == "inno" and entry.details == {"idea": reference, "kind": "idea_archive"}


def test_the_archive_is_the_teams_alone_and_unknown_ideas_are_404(
    app: Flask, client: FlaskClient
) -> None:
    reference = submit(client).json["reference"]
    make_staff(app, "editor", Role.EDITOR)
    sign_in(client, "editor")
    assert client.get(f"/admin/ideas/{reference}/archive.html").status_code == 403
    team = app.test_client()
    make_staff(app, "inno")
    sign_in(team, "inno")
    assert team.get("/admin/ideas/IDE-2026-999999/archive.html").status_code == 404
    assert team.get("/admin/ideas/nonsense/archive.html").status_code == 404
    with app.app_context():
        exports = db.session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.action == "export")
        ).all()
    assert exports == []
