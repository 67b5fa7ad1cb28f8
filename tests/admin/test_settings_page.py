"""The admin's settings page: the deployment's facts and `check --deploy`, never a secret."""

from __future__ import annotations

from flask import Flask

from consent_service.admin.facts import database_kind
from consent_service.admin.models import Role
from consent_service.deploy_check import deploy_issues
from tests.conftest import SECRET
from tests.helpers.staff import sign_in_as

DB_PASSWORD = "hunter2-database-password"
METRICS_TOKEN = "metrics-token-that-is-long-enough-0123456789"
SMTP_PASSWORD = "smtp-password-nobody-may-see"
FALLBACK_KEY = "an-older-signing-key-that-is-long-enough-987654"


def test_the_page_shows_the_facts_and_what_check_deploy_says(app: Flask) -> None:
    client = app.test_client()
    sign_in_as(app, client, Role.ADMIN)
    response = client.get("/admin/settings")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    for fact in ["Läge", "test", "Databas", "Transparensloggens namn", "Webbplatser",
                 "Policy för uppsala.se (standard)"]:  # fmt: skip
        assert fact in html, fact
    with app.app_context():
        issues = deploy_issues(app)
    # A testing app is not fit to go online, and the page says so exactly as the command does.
    assert issues
    for issue in issues:
        assert issue.code in html
    assert "consent.E002" in html


def test_no_secret_is_shown(app: Flask) -> None:
    app.config.update(
        DATABASE_URL=f"postgresql+psycopg://consent:{DB_PASSWORD}@db.internal:5432/consent",
        METRICS_TOKEN=METRICS_TOKEN,
        SMTP_PASSWORD=SMTP_PASSWORD,
        SECRET_KEY_FALLBACKS=[FALLBACK_KEY],
    )
    client = app.test_client()
    sign_in_as(app, client, Role.ADMIN)
    html = client.get("/admin/settings").get_data(as_text=True)
    assert "PostgreSQL" in html
    for secret in [SECRET, DB_PASSWORD, "db.internal", METRICS_TOKEN, SMTP_PASSWORD, FALLBACK_KEY]:
        assert secret not in html


def test_database_kind_names_only_the_kind() -> None:
    assert database_kind("sqlite:///instance/consent.sqlite3") == "SQLite"
    assert database_kind(f"postgresql+psycopg://u:{DB_PASSWORD}@h/db") == "PostgreSQL"
    assert database_kind("not a url") == "okänd"


def test_only_admins_see_it(app: Flask) -> None:
    client = app.test_client()
    sign_in_as(app, client, Role.PRIVACY_OFFICER)
    assert client.get("/admin/settings").status_code == 403
