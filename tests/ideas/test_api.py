"""The idea API: the form document, submitting, the rules, anti-abuse and the status link."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update

from consent_service.db import db, utcnow
from consent_service.ideas import services
from consent_service.ideas.models import Idea, IdeaContact
from tests.conftest import HOST_ORIGIN, SECRET, make_app
from tests.dbscan import every_stored_value
from tests.helpers.forms import csrf_token_in
from tests.ideas.conftest import idea_body, submit


def stored(app: Flask) -> list[Idea]:
    with app.app_context():
        return list(db.session.scalars(select(Idea).order_by(Idea.id)).unique())


def contacts(app: Flask) -> list[IdeaContact]:
    with app.app_context():
        return list(db.session.scalars(select(IdeaContact)))


# --- the form document ------------------------------------------------------------------------


def test_form_lists_areas_and_limits_in_swedish_by_default(client: FlaskClient) -> None:
    response = client.get("/api/v1/ideas/form")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.json
    assert data is not None
    assert data["language"] == "sv"
    assert {"id": "skola", "label": "Förskola och skola"} in data["areas"]
    assert data["areas"][-1] == {"id": "annat", "label": "Annat"}
    assert data["limits"]["title"] == 120 and data["limits"]["body"] == 4000
    assert data["form_token"]


@pytest.mark.parametrize(("lang", "expected"), [("en", "en"), ("en-GB", "en"), ("fi", "sv")])
def test_form_labels_follow_lang(client: FlaskClient, lang: str, expected: str) -> None:
    data = client.get(f"/api/v1/ideas/form?lang={lang}").json
    assert data is not None and data["language"] == expected
    labels = {a["id"]: a["label"] for a in data["areas"]}
    assert labels["skola"] == ("Preschool and school" if expected == "en" else "Förskola och skola")


# --- submitting -------------------------------------------------------------------------------


def test_submit_gives_a_reference_and_a_signed_status_link(app: Flask, client: FlaskClient) -> None:
    year = utcnow().year
    first = submit(client, email="ada@example.se", contact_ok=True, name="Ada")
    second = submit(client, title="Ännu en idé", body="Något helt annat.")
    assert first.status_code == 201 and second.status_code == 201
    assert first.json["reference"] == f"IDE-{year}-000001"
    assert second.json["reference"] == f"IDE-{year}-000002"
    assert re.fullmatch(r"http://localhost/ideas/status/[\w.-]+", first.json["status_url"])

    ideas = stored(app)
    assert [i.stage for i in ideas] == ["new", "new"]
    assert ideas[0].page == "https://www.uppsala.test/innovation"  # no query, no fragment
    assert ideas[0].topic == "innovation" and ideas[0].language == "sv"
    (contact,) = contacts(app)
    assert (contact.name, contact.email, contact.contact_ok) == ("Ada", "ada@example.se", True)


def test_nothing_identifies_the_client(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/ideas",
        json=idea_body(client),
        headers={"User-Agent": "Unique-Agent/9.9"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    assert response.status_code == 201
    dump = every_stored_value(app)
    assert "203.0.113.77" not in dump and "Unique-Agent" not in dump


def test_retry_with_the_same_request_id_stores_once(app: Flask, client: FlaskClient) -> None:
    body = idea_body(client, request_id="retry-0123456789")
    first = client.post("/api/v1/ideas", json=body)
    again = client.post("/api/v1/ideas", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert len(stored(app)) == 1


def test_sql_metacharacters_are_stored_literally(app: Flask, client: FlaskClient) -> None:
    title = "'; DROP TABLE ideas; --"
    body = "Robert'); DELETE FROM idea_contacts WHERE '1'='1 \\ % _ \" ` $1 ?"
    assert submit(client, title=title, body=body, name="O'Brien").status_code == 201
    (idea,) = stored(app)
    assert (idea.title, idea.body) == (title, body)
    assert contacts(app)[0].name == "O'Brien"


def test_crlf_counts_as_one_character(client: FlaskClient) -> None:
    # A form sends a textarea's line breaks as CRLF; the widget counts them as one.
    body = ("a" * 99 + "\r\n") * 40  # 4,000 characters as the citizen sees them
    assert submit(client, body=body.rstrip() + "b").status_code == 201


# --- the rules --------------------------------------------------------------------------------

VALID_EMAIL = {"email": "a@example.se", "contact_ok": True}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"title": ""}, {"title": "title_missing"}),
        ({"title": "   \t "}, {"title": "title_missing"}),
        ({"title": "x" * 121}, {"title": "title_long"}),
        ({"body": ""}, {"body": "body_missing"}),
        ({"body": "x" * 4001}, {"body": "body_long"}),
        ({"area": "no-such-area"}, {"area": "area_missing"}),
        ({"area": ""}, {"area": "area_missing"}),
        ({"name": "n" * 121}, {"name": "name_long"}),
        ({"email": "not-an-address", "contact_ok": True}, {"email": "email_invalid"}),
        ({"email": "a@b.se\nBcc: x@y.se", "contact_ok": True}, {"email": "email_invalid"}),
        ({"email": "a@example.se"}, {"contact_ok": "contact_ok_missing"}),
        ({"contact_ok": True}, {"email": "email_missing"}),
        (
            {"title": "", "body": "", "area": "x"},
            {"title": "title_missing", "body": "body_missing", "area": "area_missing"},
        ),
    ],
)
def test_broken_rules_are_named_per_field(
    app: Flask, client: FlaskClient, overrides: dict[str, Any], fields: dict[str, str]
) -> None:
    response = submit(client, **overrides)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_idea"
    assert response.json["fields"] == fields
    assert response.json["message"]
    assert stored(app) == []


@pytest.mark.parametrize(
    "overrides",
    [{"title": "x" * 120}, {"body": "x" * 4000}, {"name": "n" * 120}, VALID_EMAIL, {"name": None}],
)
def test_values_at_the_limits_are_accepted(client: FlaskClient, overrides: dict[str, Any]) -> None:
    assert submit(client, **overrides).status_code == 201


def test_errors_speak_the_language_of_the_form(client: FlaskClient) -> None:
    response = submit(client, title="", language="en")
    assert response.json["message"] == "Write what could be better."


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_json"),
        (b'{"title": 5, "body": "b", "area": "annat"}', "application/json", 400, "invalid_type"),
        (
            b'{"title": "t", "body": "b", "area": "annat", "x": 1}',
            "application/json",
            400,
            "unknown_field",
        ),
        (b'{"title": "t"}', "application/json", 400, "missing_field"),
        (
            b'{"title": "\\ud800", "body": "b", "area": "annat"}',
            "application/json",
            400,
            "invalid_text",
        ),
        (
            b'{"title": "a\\u0000", "body": "b", "area": "annat"}',
            "application/json",
            400,
            "invalid_text",
        ),
        (
            b'{"title": "t", "body": "b", "area": "annat", "contact_ok": "yes"}',
            "application/json",
            400,
            "invalid_type",
        ),
        (
            b'{"title": "t", "body": "b", "area": "annat", "request_id": "x"}',
            "application/json",
            400,
            "invalid_value",
        ),
        (b"title=t&body=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (
            b'{"title": "t", "body": "b", "area": "annat"}',
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            json.dumps({"title": "t", "body": "x" * 70_000, "area": "annat"}).encode(),
            "application/json",
            413,
            "too_large",
        ),
    ],
)
def test_malformed_requests_get_clear_4xx(
    app: Flask, client: FlaskClient, raw: bytes, content_type: str, status: int, code: str
) -> None:
    response = client.post("/api/v1/ideas", data=raw, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json == {"error": code, "message": response.json["message"]}
    assert stored(app) == []


# --- cross-origin rules -----------------------------------------------------------------------


def test_allowed_origin_gets_cors_headers(client: FlaskClient) -> None:
    response = client.post("/api/v1/ideas", json=idea_body(client), headers={"Origin": HOST_ORIGIN})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert "Origin" in response.headers["Vary"]
    preflight = client.options(
        "/api/v1/ideas",
        headers={"Origin": HOST_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://www.uppsala.test.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_foreign_pages_cannot_submit(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/ideas", json=idea_body(client), headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden_origin"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert stored(app) == []


# --- anti-abuse -------------------------------------------------------------------------------


def test_honeypot_sends_the_idea_to_the_spam_queue(app: Flask, client: FlaskClient) -> None:
    response = submit(client, website="http://spam.example")
    assert response.status_code == 201  # a robot learns nothing
    (idea,) = stored(app)
    assert (idea.stage, idea.spam_reason) == ("spam", "honeypot")


@pytest.mark.parametrize(
    ("token", "reason"),
    [(..., "no_form_token"), ("forged.token.value", "no_form_token"), ("", "no_form_token")],
)
def test_a_missing_or_forged_form_token_means_spam(
    app: Flask, client: FlaskClient, token: Any, reason: str
) -> None:
    assert submit(client, form_token=token).status_code == 201
    (idea,) = stored(app)
    assert (idea.stage, idea.spam_reason) == ("spam", reason)


def test_a_form_sent_too_fast_goes_to_spam(tmp_path: Path) -> None:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=30)
    client = app.test_client()
    assert submit(client).status_code == 201
    (idea,) = stored(app)
    assert (idea.stage, idea.spam_reason) == ("spam", "too_fast")


def test_form_token_verdicts(app: Flask) -> None:
    with app.test_request_context():
        app.config["IDEAS_MIN_FILL_SECONDS"] = 3
        token = services.issue_form_token()
        now = utcnow()
        assert services.form_token_verdict(token, now) == "too_fast"
        assert services.form_token_verdict(token, now + dt.timedelta(seconds=5)) is None
        later = now + dt.timedelta(seconds=app.config["IDEAS_FORM_MAX_AGE_SECONDS"] + 5)
        assert services.form_token_verdict(token, later) == "stale_form"
        other = URLSafeSerializer("another-key-entirely-0123456789abcdef", salt="idea-form")
        assert services.form_token_verdict(other.dumps(1), now) == "no_form_token"


def test_the_same_text_within_a_day_goes_to_spam(app: Flask, client: FlaskClient) -> None:
    assert submit(client).status_code == 201
    # Case, punctuation and spacing do not make a text new.
    again = submit(
        client,
        title="FLER bänkar vid Fyrisån!!",
        body=" längs  promenadstråket finns för få platser att vila",
    )
    assert again.status_code == 201
    first, second = stored(app)
    assert (first.stage, second.stage, second.spam_reason) == ("new", "spam", "duplicate")
    with app.app_context():
        db.session.execute(update(Idea).values(received_at=utcnow() - dt.timedelta(days=2)))
        db.session.commit()
    assert submit(client).status_code == 201
    assert stored(app)[-1].stage == "new"


def test_rate_limit_is_polite_and_shared_between_instances(tmp_path: Path) -> None:
    first = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RATE_LIMIT=2)
    second = make_app(tmp_path, migrate=False, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RATE_LIMIT=2)
    a, b = first.test_client(), second.test_client()
    assert submit(a, title="Ett").status_code == 201
    assert submit(b, title="Två").status_code == 201
    refused = submit(a, title="Tre")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"] == "too_many_ideas"
    assert refused.json["message"].startswith("Du har skickat många idéer på kort tid. Vänta ")
    assert submit(b, title="Fyra", language="en").json["message"].startswith("You have sent many")
    assert [i.title for i in stored(first)] == ["Ett", "Två"]


# --- the status link --------------------------------------------------------------------------


def status_path(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_status_link_answers_json_or_html(app: Flask, client: FlaskClient) -> None:
    receipt = submit(client, name="Ada Lovelace", email="ada@example.se", contact_ok=True).json
    path = status_path(receipt["status_url"])
    data = client.get(path, headers={"Accept": "application/json"}).json
    assert data["reference"] == receipt["reference"]
    assert data["stage"]["id"] == "new" and data["stage"]["label"] == "Mottagen"
    assert data["contact_on_file"] is True and data["messages"] == []
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert receipt["reference"] in html and "Ringa in" in html and 'aria-current="step"' in html
    for personal in ("Ada Lovelace", "ada@example.se"):
        assert personal not in html and personal not in json.dumps(data)


def test_status_page_follows_lang(client: FlaskClient) -> None:
    receipt = submit(client, language="en").json
    html = client.get(status_path(receipt["status_url"])).get_data(as_text=True)
    assert "Where the idea is now" in html and 'lang="en"' in html
    html = client.get(status_path(receipt["status_url"]) + "?lang=sv").get_data(as_text=True)
    assert "Var idén är nu" in html


def forged_tokens(app: Flask) -> list[str]:
    with app.test_request_context():
        real = services.status_token("IDE-2026-000001")
    wrong_key = URLSafeSerializer("someone-elses-key-0123456789abcdefgh", salt="idea-status")
    wrong_salt = URLSafeSerializer(SECRET, salt="idea-form")
    right = URLSafeSerializer(SECRET, salt="idea-status")
    return [
        "x",
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        real.split(".")[0] + ".",
        wrong_key.dumps("IDE-2026-000001"),
        wrong_salt.dumps("IDE-2026-000001"),
        right.dumps(12345),
        right.dumps({"reference": "IDE-2026-000001"}),
        right.dumps("IDE-2026-999999"),
        right.dumps("'; DROP TABLE ideas; --"),
        "a" * 5000,
        "ä%00.\u202e",
        "..",
    ]


def test_forged_status_tokens_are_404_never_500(app: Flask, client: FlaskClient) -> None:
    submit(client)
    for token in forged_tokens(app):
        for accept in ("text/html", "application/json"):
            response = client.get(f"/ideas/status/{token}", headers={"Accept": accept})
            assert response.status_code == 404, (token, response.status_code)
            if accept == "application/json":
                assert response.json["error"] == "not_found"
        posted = client.post(f"/ideas/status/{token}/withdraw")
        assert posted.status_code in (400, 404)
    assert stored(app)[0].stage == "new"


def test_status_links_survive_a_key_rotation(tmp_path: Path) -> None:
    old = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0)
    url = submit(old.test_client()).json["status_url"]
    new_key = "a-brand-new-secret-key-0123456789abcdefgh"
    rotated = make_app(
        tmp_path,
        migrate=False,
        SECRET_KEY=new_key,
        SIGNING_KEYS=[SECRET, new_key],
        WTF_CSRF_SECRET_KEY=[SECRET, new_key],
    )
    assert rotated.test_client().get(status_path(url)).status_code == 200


def test_citizen_can_delete_contact_and_withdraw(app: Flask, client: FlaskClient) -> None:
    receipt = submit(client, name="Ada", email="ada@example.se", contact_ok=True).json
    path = status_path(receipt["status_url"])
    html = client.get(path).get_data(as_text=True)
    token = csrf_token_in(html)
    assert client.post(path + "/contact/delete").status_code == 400  # no CSRF token
    assert contacts(app) != []
    deleted = client.post(path + "/contact/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and "notice=contact_deleted" in deleted.headers["Location"]
    assert contacts(app) == []
    withdrawn = client.post(path + "/withdraw", data={"csrf_token": token, "confirm": "yes"})
    assert withdrawn.status_code == 303
    (idea,) = stored(app)
    assert (idea.stage, idea.close_reason) == ("closed", "withdrawn")
    page = client.get(withdrawn.headers["Location"]).get_data(as_text=True)
    assert "Du har dragit tillbaka idén." in page and "Dra tillbaka idén</button>" not in page


# --- retries, addresses and patterns ------------------------------------------------------------


@pytest.mark.parametrize(
    "changed",
    [
        {"title": "", "body": ""},
        {"title": "Något helt annat"},
        {"body": "Längs promenadstråket finns för få platser att sitta."},
    ],
)
def test_a_retry_key_answers_only_the_same_text(
    app: Flask, client: FlaskClient, changed: dict[str, str]
) -> None:
    body = idea_body(client, request_id="retry-0123456789")
    first = client.post("/api/v1/ideas", json=body)
    assert first.status_code == 201
    reused = client.post("/api/v1/ideas", json={**body, **changed})
    assert reused.status_code == 409
    assert reused.json["error"] == "request_id_reused"
    assert "request_id" in reused.json["message"]
    assert first.json["reference"] not in reused.get_data(as_text=True)
    english = client.post("/api/v1/ideas", json={**body, **changed, "language": "en"})
    assert english.json["message"] != reused.json["message"]
    # The same text, spaced as a form may send it, is the same idea.
    spaced = {**body, "title": f"  {body['title']} ", "body": body["body"] + "\r\n"}
    assert client.post("/api/v1/ideas", json=spaced).json == first.json
    assert len(stored(app)) == 1


def test_retry_key_look_ups_are_limited(tmp_path: Path) -> None:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RATE_LIMIT=1)
    client = app.test_client()
    lookups = services.REPLAY_LOOKUPS_PER_IDEA
    answers = [
        client.post(
            "/api/v1/ideas", json=idea_body(client, request_id=f"probe-{n:08d}")
        ).status_code
        for n in range(lookups + 1)
    ]
    # The first stores an idea; the idea limit (1) refuses the next ones; past the look-up
    # limit even a retry key that exists is not looked up.
    assert answers[0] == 201 and answers[-1] == 429
    known = idea_body(client, request_id="probe-00000000")
    refused = client.post("/api/v1/ideas", json=known)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"] == "too_many_ideas"


@pytest.mark.parametrize(
    "email",
    [
        "a@example.org,postmaster",
        "a@example.org, b@example.org",
        "a@example.org;b@example.org",
        "Ada <a@example.org>",
        "<a@example.org>",
        "a b@example.org",
        "a@example.org\n",
        "a@example.org\r\nBcc: b@example.org",
        '"a,b"@example.org',
        "a@b@example.org",
        "a@localhost",
        "a@example.",
        "@example.org",
    ],
)
def test_one_address_with_a_domain(app: Flask, client: FlaskClient, email: str) -> None:
    response = submit(client, email=email, contact_ok=True)
    assert response.status_code == 400
    assert response.json["fields"] == {"email": "email_invalid"}
    assert response.json["message"] == "Skriv en e-postadress som namn@exempel.se."
    english = submit(client, email=email, contact_ok=True, language="en")
    assert english.json["message"] == "Enter an email address like name@example.com."
    assert stored(app) == []


@pytest.mark.parametrize(
    "email",
    ["ada@example.se", "ada.lovelace+ideer@uppsala.se", "o'brien@example.co.uk", "åsa@exempel.se"],
)
def test_ordinary_addresses_are_accepted(client: FlaskClient, email: str) -> None:
    assert submit(client, email=email, contact_ok=True).status_code == 201


def test_a_trailing_newline_is_not_a_retry_key(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/ideas", json=idea_body(client, request_id="retry-012345\n"))
    assert response.status_code == 400 and response.json["error"] == "invalid_value"
    assert stored(app) == []


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Fler bän\u200bkar vid Fyrisån", "Längs promenadstråket finns för få platser att vila."),
        (
            "Fler bänkar vid Fyri\u00adsån",
            "Längs promenad\u200dstråket finns för få platser att vila.",
        ),
        (
            "\ufeffFler bänkar vid Fyrisån",
            "Längs promenadstråket finns för få platser att vila\u2060.",
        ),
        (
            "\uff26\uff4c\uff45\uff52 \uff42änkar vid Fyrisån",
            "Längs promenadstråket finns för få platser att vila.",
        ),
        (
            "\U0001d405\U0001d425\U0001d41e\U0001d42b bänkar vid Fyrisån",
            "Längs promenadstråket finns för få platser att vila.",
        ),
        (
            "Fler bänk\u0430r vid Fyrisån",
            "Längs pr\u043emenadstråket finns för få pl\u0430tser att vil\u0430.",
        ),
    ],
    ids=[
        "zero-width-space",
        "soft-hyphen-zwj",
        "bom-word-joiner",
        "fullwidth",
        "math-bold",
        "cyrillic",
    ],
)
def test_invisible_and_lookalike_variants_are_duplicates(
    app: Flask, client: FlaskClient, title: str, body: str
) -> None:
    assert submit(client).status_code == 201
    assert submit(client, title=title, body=body).status_code == 201
    first, second = stored(app)
    assert (second.stage, second.spam_reason) == ("spam", "duplicate")
    assert second.text_hash == first.text_hash
