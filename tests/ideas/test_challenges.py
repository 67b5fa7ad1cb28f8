"""Challenges (utmaningar): the team publishes them, the widget's form shows the question,
ideas are taken only while one is open, and the board, the evaluation and the open idea page
can be read per challenge."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import User
from consent_service.db import db
from consent_service.ideas import challenges, evaluation
from consent_service.ideas.models import Idea
from tests.ideas.conftest import csrf_token, form_token, idea_body, submit

TODAY = dt.datetime.now(challenges.ZONE).date()


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def publish(client: FlaskClient, slug: str, opens: int = -1, closes: int = 30, **extra: str) -> Any:
    token = csrf_token(client, "/admin/ideas/challenges")
    data = {
        "csrf_token": token,
        "slug": slug,
        "opens_on": days(opens),
        "closes_on": days(closes),
        "stage": "undersoka",
        "question_sv": "Hur kan skolvägen bli tryggare?",
        "background_sv": "Många barn går eller cyklar till skolan.",
        "target_group_sv": "Barn och föräldrar",
        **extra,
    }
    return client.post("/admin/ideas/challenges", data=data)


def test_the_team_publishes_and_changes_a_challenge(app: Flask, team: FlaskClient) -> None:
    response = publish(team, "trygg-skolvag", question_en="How can the way to school be safer?")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/ideas/challenges/trygg-skolvag")
    page = team.get("/admin/ideas/challenges").get_data(as_text=True)
    assert "Hur kan skolvägen bli tryggare?" in page and "Öppen" in page
    edit = team.get("/admin/ideas/challenges/trygg-skolvag").get_data(as_text=True)
    assert 'data-challenge="trygg-skolvag"' in edit.replace("&#34;", '"').replace("&quot;", '"')

    token = csrf_token(team, "/admin/ideas/challenges/trygg-skolvag")
    response = team.post(
        "/admin/ideas/challenges/trygg-skolvag",
        data={
            "csrf_token": token,
            "opens_on": days(-1),
            "closes_on": days(5),
            "stage": "fokusera",
            "question_sv": "Hur blir skolvägen trygg?",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        found = challenges.find("uppsala.se", "trygg-skolvag")
        assert found is not None
        assert found.stage == "fokusera" and found.closes_on == TODAY + dt.timedelta(days=5)
        assert [t.language for t in found.texts] == ["sv"]  # the English text was left empty
        assert found.texts[0].question == "Hur blir skolvägen trygg?"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "Trygg Skolväg"}, "Kortnamnet är 1"),
        ({"opens_on": "1 december"}, "Skriv första dagen som ÅÅÅÅ-MM-DD."),
        ({"closes_on": days(-5)}, "Sista dagen kan inte vara före första dagen."),
        ({"stage": "closed"}, "Välj ett steg i innovationsloopen."),
        ({"question_sv": ""}, "Skriv frågan på svenska."),
        ({"target_group_en": "Children"}, "Skriv frågan på engelska, eller lämna språket tomt."),
        ({"question_sv": "x" * 301}, "Frågan får vara högst 300 tecken."),
    ],
)
def test_challenge_rules(team: FlaskClient, fields: dict[str, str], message: str) -> None:
    data = {"slug": "regel", "opens_on": days(0), "closes_on": days(3), **fields}
    response = publish(team, **{"opens": 0, **data})  # type: ignore[arg-type]
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html


def test_a_slug_is_taken_once(team: FlaskClient) -> None:
    assert publish(team, "park").status_code == 303
    response = publish(team, "park")
    assert response.status_code == 400
    assert "Det finns redan en utmaning med kortnamnet park." in response.get_data(as_text=True)


def test_the_form_endpoint_gives_the_question(team: FlaskClient, client: FlaskClient) -> None:
    publish(team, "trygg-skolvag", question_en="How can the way to school be safer?")
    publish(team, "sv-bara", question_sv="Vad saknas i parken?")
    doc = client.get("/api/v1/ideas/form?challenge=trygg-skolvag&lang=en").json
    assert doc["challenge"]["question"] == "How can the way to school be safer?"
    assert doc["challenge"]["lang"] == "en" and doc["challenge"]["open"] is True
    assert doc["challenge"]["stage"] == {"id": "undersoka", "label": "Explore"}
    assert "message" not in doc["challenge"]
    # No English text: the Swedish one, marked as Swedish.
    doc = client.get("/api/v1/ideas/form?challenge=sv-bara&lang=en").json
    assert (
        doc["challenge"]["question"] == "Vad saknas i parken?" and doc["challenge"]["lang"] == "sv"
    )
    assert client.get("/api/v1/ideas/form").json["challenge"] is None
    missing = client.get("/api/v1/ideas/form?challenge=finns-inte&lang=en")
    assert missing.status_code == 404 and missing.json["error"] == "challenge_unknown"
    assert missing.json["message"].startswith("There is no such challenge.")


def test_ideas_are_taken_only_while_a_challenge_is_open(
    app: Flask, team: FlaskClient, client: FlaskClient
) -> None:
    publish(team, "oppen")
    publish(team, "snart", opens=3, closes=10)
    publish(team, "slut", opens=-10, closes=-1)
    response = submit(client, challenge="oppen")
    assert response.status_code == 201
    with app.app_context():
        idea = db.session.scalar(select(Idea).where(Idea.reference == response.json["reference"]))
        assert idea is not None and idea.challenge is not None and idea.challenge.slug == "oppen"

    response = submit(client, challenge="snart", title="Snart", language="sv")
    assert response.status_code == 409 and response.json["error"] == "challenge_upcoming"
    assert response.json["message"].startswith(f"Utmaningen tar emot idéer från och med {days(3)}.")
    response = submit(client, challenge="slut", title="Slut", language="en")
    assert response.status_code == 409 and response.json["error"] == "challenge_closed"
    assert response.json["message"].startswith(f"The challenge closed on {days(-1)}")
    response = submit(client, challenge="finns-inte", title="Okänd")
    assert response.status_code == 400 and response.json["error"] == "challenge_unknown"
    with app.app_context():
        titles = db.session.scalars(select(Idea.title)).all()
    assert "Snart" not in titles and "Slut" not in titles and "Okänd" not in titles


def test_a_challenge_is_open_on_its_first_and_last_day(app: Flask, team: FlaskClient) -> None:
    publish(team, "idag", opens=0, closes=0)
    with app.app_context():
        found = challenges.find("uppsala.se", "idag")
        assert found is not None
        noon = dt.datetime.combine(TODAY, dt.time(12), challenges.ZONE)
        assert challenges.state(found, challenges.today(noon)) == challenges.OPEN
        # 23:30 in Sweden is still the same day, although UTC may already be the next one.
        late = dt.datetime.combine(TODAY, dt.time(23, 30), challenges.ZONE).astimezone(dt.UTC)
        assert challenges.state(found, challenges.today(late)) == challenges.OPEN
        next_day = late + dt.timedelta(hours=1)
        assert challenges.state(found, challenges.today(next_day)) == challenges.CLOSED


def test_the_nojs_form_carries_the_challenge(
    app: Flask, team: FlaskClient, client: FlaskClient
) -> None:
    publish(team, "oppen")
    publish(team, "slut", opens=-10, closes=-1)
    page = client.get("/ideas/new?challenge=oppen&lang=sv").get_data(as_text=True)
    assert "Hur kan skolvägen bli tryggare?" in page
    assert 'name="challenge" value="oppen"' in page
    token = csrf_token(client, "/ideas/new?challenge=oppen")
    data = {k: v for k, v in idea_body().items() if k != "page"}
    data.update(csrf_token=token, challenge="oppen", lang="sv", form_token=form_token(client))
    response = client.post("/ideas/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        idea = db.session.scalars(select(Idea).order_by(Idea.id.desc())).first()
        assert idea is not None and idea.challenge is not None

    closed = client.get("/ideas/new?challenge=slut&lang=en").get_data(as_text=True)
    assert "The challenge closed on" in closed
    token = csrf_token(client, "/ideas/new?challenge=slut")
    data.update(csrf_token=token, challenge="slut", title="För sent", form_token=form_token(client))
    response = client.post("/ideas/new", data=data)
    assert response.status_code == 409
    assert "Utmaningen stängde" in response.get_data(as_text=True)
    missing = client.get("/ideas/new?challenge=finns-inte")
    assert missing.status_code == 404
    assert "Utmaningen finns inte." in missing.get_data(as_text=True)


def test_board_and_evaluation_filter_by_challenge(
    app: Flask, team: FlaskClient, client: FlaskClient
) -> None:
    publish(team, "oppen")
    publish(team, "annan")
    with_challenge = submit(client, challenge="oppen", title="Till utmaningen").json["reference"]
    other = submit(client, title="Utan utmaning").json["reference"]
    for ref in (with_challenge, other):
        token = csrf_token(team, f"/admin/ideas/{ref}")
        team.post(f"/admin/ideas/{ref}/move", data={"csrf_token": token, "stage": "ringa_in"})
    board = team.get("/admin/ideas/board?challenge=oppen").get_data(as_text=True)
    assert "Till utmaningen" in board and "Utan utmaning" not in board
    assert "Bara idéer till utmaningen oppen." in board
    assert "Utan utmaning" in team.get("/admin/ideas/board").get_data(as_text=True)
    assert "Till utmaningen" not in team.get("/admin/ideas/board?challenge=annan").get_data(
        as_text=True
    )
    assert team.get("/admin/ideas/board?challenge=finns-inte").status_code == 404
    page = team.get("/admin/ideas/evaluation?challenge=oppen").get_data(as_text=True)
    assert "Utmaningen oppen:</strong> 1 idéer kom in" in page
    csv_response = team.get("/admin/ideas/evaluation.csv?challenge=oppen")
    assert "-oppen.csv" in csv_response.headers["Content-Disposition"]
    export = team.get("/admin/ideas/export.csv").get_data(as_text=True).lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(export)))
    assert header[-2:] == ["Utmaning", "På öppna idésidan"]
    assert next(r for r in rows if r[0] == with_challenge)[-2:] == ["oppen", "nej"]
    idea_page = team.get(f"/admin/ideas/{with_challenge}").get_data(as_text=True)
    assert "/admin/ideas/challenges/oppen" in idea_page
    with app.app_context():
        found = challenges.find("uppsala.se", "oppen")
        assert found is not None
        period = evaluation.period(None, None)
        assert evaluation.evaluate(period, challenge_id=found.id).total == 1
        assert evaluation.evaluate(period).total == 2


def test_the_open_page_groups_figures_per_challenge(team: FlaskClient, client: FlaskClient) -> None:
    publish(team, "oppen", question_en="How can the way to school be safer?")
    publish(team, "slut", opens=-10, closes=-1, question_sv="Vad saknas i parken?")
    submit(client, challenge="oppen", title="Ett")
    submit(client, challenge="oppen", title="Två")
    submit(client, title="Tre")
    page = client.get("/ideas?lang=sv").get_data(as_text=True)
    assert "Utmaningar" in page and "Hur kan skolvägen bli tryggare?" in page
    assert "Svara på utmaningen" in page and "/ideas/new?challenge=oppen" in page
    assert page.count("Svara på utmaningen") == 1  # not for the closed one
    assert "Idéer per utmaning" in page
    rows = page.split('<h3 id="challenge-caption">')[1]
    assert "Utan utmaning" in rows
    english = client.get("/ideas?lang=en").get_data(as_text=True)
    assert 'lang="en">How can the way to school be safer?' in english
    assert 'lang="sv">Vad saknas i parken?' in english  # no translation: marked Swedish


def test_operations_without_http(app: Flask, team: FlaskClient) -> None:
    with app.test_request_context():
        actor = db.session.scalar(select(User).where(User.name == "inno"))
        assert actor is not None
        challenge = challenges.save_challenge(
            site="uppsala.se",
            slug="utan-http",
            opens_on=days(0),
            closes_on=days(1),
            stage="ringa_in",
            texts={"sv": {"question": "  Fråga   här ", "background": None}},
            actor=actor,
        )
        assert challenge.slug == "utan-http"
        view = challenges.public_view(challenge, "sv")
        assert view["question"] == "Fråga här" and view["open"] is True
        with pytest.raises(challenges.ChallengeError, match="kan inte ändras"):
            challenges.save_challenge(
                site="uppsala.se", slug="annat", opens_on=days(0), closes_on=days(1),
                stage="ringa_in", texts={"sv": {"question": "F"}}, actor=actor,
                existing="utan-http",
            )  # fmt: skip
