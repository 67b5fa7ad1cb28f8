"""The innovation team's board: roles, moves, owners, tags, notes, messages, merge, spam,
portfolio, evaluation and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import Role
from consent_service.db import db, utcnow
from consent_service.ideas import evaluation
from consent_service.ideas.models import Idea, IdeaEvent
from tests.ideas.conftest import csrf_token, make_staff, sign_in, submit

PAGES = [
    "/admin/ideas",
    "/admin/ideas/board",
    "/admin/ideas/spam",
    "/admin/ideas/list?stage=new",
    "/admin/ideas/portfolio",
    "/admin/ideas/evaluation",
    "/admin/ideas/export.csv",
    "/admin/ideas/evaluation.csv",
    "/admin/ideas/{ref}",
]
ACTIONS = [
    "move", "step", "owner", "tags", "tags/remove", "notes", "messages", "merge", "spam", "publish",
]  # fmt: skip


def new_idea(client: FlaskClient, **overrides: Any) -> str:
    response = submit(client, **overrides)
    assert response.status_code == 201, response.json
    return str(response.json["reference"])


def idea(app: Flask, reference: str) -> Idea:
    with app.app_context():
        found = db.session.scalar(select(Idea).where(Idea.reference == reference))
        assert found is not None
        return found


def act(client: FlaskClient, reference: str, path: str, **data: str) -> Any:
    token = csrf_token(client, f"/admin/ideas/{reference}")
    return client.post(f"/admin/ideas/{reference}/{path}", data={"csrf_token": token, **data})


def status_json(client: FlaskClient, reference: str, app: Flask) -> Any:
    from consent_service.ideas.services import status_token

    with app.test_request_context():
        token = status_token(reference)
    return client.get(f"/ideas/status/{token}", headers={"Accept": "application/json"}).json


# --- roles ------------------------------------------------------------------------------------


def test_only_the_innovation_team_gets_in(app: Flask, client: FlaskClient) -> None:
    ref = new_idea(client)
    pages = [p.format(ref=ref) for p in PAGES]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]
    for action in ACTIONS:
        assert client.post(f"/admin/ideas/{ref}/{action}").status_code in (302, 400)
    for role in (Role.ADMIN, Role.EDITOR, Role.PRIVACY_OFFICER):
        other = app.test_client()
        make_staff(app, role.value, role)
        sign_in(other, role.value)
        for page in pages:
            assert other.get(page).status_code == 403, (role, page)
        token = csrf_token(other, "/admin/")
        for action in ACTIONS:
            response = other.post(f"/admin/ideas/{ref}/{action}", data={"csrf_token": token})
            assert response.status_code == 403, (role, action)
    assert idea(app, ref).stage == "new"


def test_the_team_sees_every_page_and_its_menu(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    for page in PAGES:
        response = team.get(page.format(ref=ref))
        assert response.status_code == 200, page
    home = team.get("/admin/").get_data(as_text=True)
    for label in ("Idéer", "Idétavla", "Idéportfölj", "Utvärdering"):
        assert f">{label}</a>" in home
    assert team.get("/admin/ideas/IDE-2026-999999").status_code == 404
    assert team.get("/admin/ideas/not-a-reference").status_code == 404


def test_board_actions_need_a_csrf_token(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    response = team.post(f"/admin/ideas/{ref}/step", data={"direction": "next"})
    assert response.status_code == 400
    assert idea(app, ref).stage == "new"


# --- the loop ---------------------------------------------------------------------------------


def test_moving_through_the_loop_leaves_a_history(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    assert ref in team.get("/admin/ideas").get_data(as_text=True)
    moved = act(team, ref, "step", direction="next", back="board")
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"#idea-{ref}")
    assert idea(app, ref).stage == "ringa_in"
    act(team, ref, "move", stage="testa_ideer", message="Vi testar en prototyp i vår.")
    act(team, ref, "step", direction="previous")
    assert idea(app, ref).stage == "ta_fram_ideer"
    board = team.get("/admin/ideas/board").get_data(as_text=True)
    assert f'id="idea-{ref}"' in board
    page = team.get(f"/admin/ideas/{ref}").get_data(as_text=True)
    assert "Flyttad från Inkorg till Ringa in" in page
    assert "Flyttad från Testa idéer till Ta fram idéer" in page
    assert page.count("<td>inno</td>") == 3  # who moved it, each time
    public = status_json(team, ref, app)
    assert public["stage"]["id"] == "ta_fram_ideer"
    assert [m["body"] for m in public["messages"]] == ["Vi testar en prototyp i vår."]
    assert public["messages"][0]["stage"] == "testa_ideer"


def test_closing_needs_a_reason_the_citizen_sees(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    refused = act(team, ref, "move", stage="closed")
    assert refused.status_code == 303
    assert "Välj ett skäl" in team.get(refused.headers["Location"]).get_data(as_text=True)
    assert idea(app, ref).stage == "new"
    act(team, ref, "move", stage="closed", close_reason="realised", message="Nu finns bänkarna!")
    closed = idea(app, ref)
    assert (closed.stage, closed.close_reason) == ("closed", "realised")
    assert closed.closed_at is not None
    public = status_json(team, ref, app)
    assert public["closed"] == {"reason": "realised", "label": "Idén är förverkligad"}
    assert public["can_withdraw"] is False
    act(team, ref, "move", stage="undersoka")  # reopened
    reopened = idea(app, ref)
    assert (reopened.stage, reopened.close_reason, reopened.closed_at) == ("undersoka", None, None)


def test_stage_select_refuses_unknown_stages(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    assert act(team, ref, "move", stage="nowhere").status_code == 400
    assert act(team, ref, "step", direction="sideways").status_code == 400
    assert act(team, ref, "move", stage="closed", close_reason="merged").status_code == 400
    assert idea(app, ref).stage == "new"


def test_owner_tags_notes_and_messages(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    colleague = make_staff(app, "kollega")
    editor = make_staff(app, "redaktor", Role.EDITOR)
    act(team, ref, "owner", owner=str(colleague))
    assert idea(app, ref).owner_id == colleague
    refused = act(team, ref, "owner", owner=str(editor))
    assert "aktiv medlem i innovationsteamet" in team.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    assert idea(app, ref).owner_id == colleague
    act(team, ref, "owner", owner="")
    assert idea(app, ref).owner_id is None

    act(team, ref, "tags", tag="  Park  Och Natur ")
    act(team, ref, "tags", tag="park och natur")
    assert [t.tag for t in idea(app, ref).tags] == ["park och natur"]
    act(team, ref, "tags/remove", tag="park och natur")
    assert idea(app, ref).tags == []

    act(team, ref, "notes", body="Ring trafikkontoret först. Hemligt.")
    act(team, ref, "messages", body="Vi har börjat titta på idén.")
    page = team.get(f"/admin/ideas/{ref}").get_data(as_text=True)
    assert "Ring trafikkontoret först." in page and "Vi har börjat titta på idén." in page
    public = status_json(team, ref, app)
    assert [m["body"] for m in public["messages"]] == ["Vi har börjat titta på idén."]
    assert "Hemligt" not in str(public) and "kollega" not in str(public)
    assert "Hemligt" not in team.get(f"/admin/ideas/{ref}/../../export.csv").get_data(as_text=True)


def test_merging_a_duplicate(app: Flask, team: FlaskClient) -> None:
    original = new_idea(team)
    duplicate = new_idea(team, title="Bänkar längs ån", body="Samma sak, andra ord.")
    act(team, duplicate, "tags", tag="parker")
    act(team, original, "step", direction="next")
    assert act(team, duplicate, "merge", target=duplicate).status_code == 303
    assert idea(app, duplicate).stage == "new"  # not with itself
    act(team, duplicate, "merge", target=original.lower())
    merged = idea(app, duplicate)
    assert (merged.stage, merged.close_reason) == ("closed", "merged")
    assert [t.tag for t in idea(app, original).tags] == ["parker"]
    public = status_json(team, duplicate, app)
    assert public["merged_into"]["reference"] == original
    assert public["merged_into"]["stage_label"] == "Ringa in"
    history = team.get(f"/admin/ideas/{original}").get_data(as_text=True)
    assert f"{duplicate} slogs ihop med den här idén" in history


def test_spam_queue_keeps_everything(app: Flask, team: FlaskClient) -> None:
    spam = new_idea(team, website="http://robot.example")
    real = new_idea(team, title="Riktig idé", body="Något bra.")
    inbox = team.get("/admin/ideas").get_data(as_text=True)
    assert real in inbox and spam not in inbox
    queue = team.get("/admin/ideas/spam").get_data(as_text=True)
    assert spam in queue and "dolt fält ifyllt" in queue
    assert act(team, spam, "step", direction="next").status_code == 303
    assert idea(app, spam).stage == "spam"  # spam is not moved into the loop by accident
    act(team, spam, "spam", action="release")
    assert idea(app, spam).stage == "new"
    act(team, real, "spam", action="spam")
    assert (idea(app, real).stage, idea(app, real).spam_reason) == ("spam", "team")
    assert status_json(team, real, app)["stage"]["id"] == "new"  # the citizen sees "received"


# --- portfolio, evaluation, export ------------------------------------------------------------


def test_portfolio_counts_by_stage_area_age_and_owner(app: Flask, team: FlaskClient) -> None:
    a = new_idea(team, area="skola", title="A", body="a")
    new_idea(team, area="skola", title="B", body="b")
    new_idea(team, area="miljo", title="C", body="c")
    act(team, a, "step", direction="next")
    html = team.get("/admin/ideas/portfolio").get_data(as_text=True)
    assert "3 pågående idéer" in html
    assert "/admin/ideas/list?stage=ringa_in&amp;area=skola" in html
    listing = team.get("/admin/ideas/list?stage=new&area=skola").get_data(as_text=True)
    assert ">B<" in listing and ">A<" not in listing and ">C<" not in listing
    assert ">A<" in team.get("/admin/ideas/list?owner=none&age=< 1 vecka").get_data(as_text=True)


def set_history(
    app: Flask, reference: str, received: dt.datetime, moves: list[tuple[str, str, float]]
) -> None:
    """Rewrite an idea's history: received at `received`, then (from, to, days later) moves."""
    with app.app_context():
        found = db.session.scalar(select(Idea).where(Idea.reference == reference))
        assert found is not None
        found.received_at = received
        for event in db.session.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == found.id)):
            db.session.delete(event)
        db.session.add(
            IdeaEvent(idea_id=found.id, occurred_at=received, kind="received", to_stage="new")
        )
        for from_stage, to_stage, days in moves:
            db.session.add(
                IdeaEvent(
                    idea_id=found.id,
                    kind="moved",
                    from_stage=from_stage,
                    to_stage=to_stage,
                    occurred_at=received + dt.timedelta(days=days),
                )
            )
            found.stage = to_stage
        db.session.commit()


def test_evaluation_figures(app: Flask, team: FlaskClient) -> None:
    jan = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    refs = [
        new_idea(team, area=area, title=f"T{i}", body=f"B{i}")
        for i, area in enumerate(["skola", "skola", "miljo", "trafik"])
    ]
    new_idea(team, title="robot", body="robot", website="x")  # spam never counts
    set_history(app, refs[0], jan, [("new", "ringa_in", 2), ("ringa_in", "undersoka", 6)])
    set_history(app, refs[1], jan, [("new", "ringa_in", 4)])
    set_history(app, refs[2], jan + dt.timedelta(days=31), [("new", "fokusera", 1)])
    set_history(app, refs[3], jan + dt.timedelta(days=31), [])
    with app.test_request_context():
        result = evaluation.evaluate(evaluation.period("2026-01", "2026-03"), now=jan)
    assert result.total == 4
    assert result.per_month["2026-01"]["skola"] == 2
    assert result.per_month["2026-02"]["miljo"] == 1 and result.month_total("2026-03") == 0
    assert result.reached["new"] == 4 and result.reached["ringa_in"] == 3
    assert result.reached["undersoka"] == 2 and result.reached["fokusera"] == 1  # jumped ahead
    times = {t.stage: t for t in result.stage_times}
    assert times["new"].count == 3 and times["new"].median_days == pytest.approx(2)
    assert times["ringa_in"].count == 1 and times["ringa_in"].mean_days == pytest.approx(4)
    page = team.get("/admin/ideas/evaluation?from=2026-01&to=2026-03").get_data(as_text=True)
    assert page.count("<svg") == 4 and "<script" not in page
    assert "<caption>Idéer per månad och område</caption>" in page
    assert "75\u00a0%" in page  # 3 of 4 reached Ringa in (Swedish: a no-break space)
    assert "2,0\u00a0d" in page and "4,0\u00a0d" in page  # a decimal comma, as "75 %" beside it
    exported = team.get("/admin/ideas/evaluation.csv?from=2026-01&to=2026-03").get_data()
    assert exported[:3] == b"\xef\xbb\xbf"  # for people: a BOM so Excel reads å ä ö
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0][0] == "Månad" and rows[1][0] == "2026-01" and rows[1][-1] == "2"
    assert ["Steg", "Nådde steget", "Andel (%)"] in rows and ["Ringa in", "3", "75"] in rows


@pytest.mark.parametrize("bad", ["", "2026-13", "20x6-01", "2026-01-01", "9999-99"])
def test_evaluation_ignores_malformed_months(team: FlaskClient, bad: str) -> None:
    assert team.get(f"/admin/ideas/evaluation?from={bad}&to={bad}").status_code == 200


def test_csv_export_neutralises_formulas(app: Flask, team: FlaskClient) -> None:
    formulas = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for i, formula in enumerate(formulas):
        new_idea(team, title=f"{formula}", body=f"{formula} body {i}", topic=formula)
    response = team.get("/admin/ideas/export.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data()[:3] == b"\xef\xbb\xbf"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["Referens", "Inkom (UTC)"] and rows[0][6] == "Steg"
    assert {row[6] for row in rows[1:]} == {"Inkorg"}  # the stage's name, not its code
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    titles = [row[11] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in titles and "'+1+1" in titles


def test_export_has_no_personal_data(app: Flask, team: FlaskClient) -> None:
    new_idea(team, name="Ada Lovelace", email="ada@example.se", contact_ok=True)
    exported = team.get("/admin/ideas/export.csv").get_data(as_text=True)
    assert "Ada" not in exported and "ada@example.se" not in exported


def test_now_is_used_for_ages(app: Flask) -> None:
    from consent_service.ideas.board import age_bucket

    now = utcnow()
    assert age_bucket(now - dt.timedelta(days=3), now) == "< 1 vecka"
    assert age_bucket(now - dt.timedelta(days=400), now) == "> 1 år"


# --- patterns, owners, merged ideas, the evaluation tables -------------------------------------


def test_a_reference_with_a_trailing_newline_is_not_found(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team)
    assert team.get(f"/admin/ideas/{ref}").status_code == 200
    for variant in (f"{ref}%0A", f"{ref}%0D%0A", f"%20{ref}", ref.lower()):
        assert team.get(f"/admin/ideas/{variant}").status_code == 404, variant


@pytest.mark.parametrize("bad", ["2026-1\n", "2026- 1", "2026-+1", "2026-01\n"])
def test_months_are_matched_whole(bad: str) -> None:
    assert evaluation.parse_month(bad) is None
    assert evaluation.parse_month("2026-01") == (2026, 1)


def test_the_owner_filter_names_only_team_members(app: Flask, team: FlaskClient) -> None:
    new_idea(team)
    colleague = make_staff(app, "kollega")
    others = [
        make_staff(app, "Hemlig Administratör", Role.ADMIN),
        make_staff(app, "Hemligt Dataskyddsombud", Role.PRIVACY_OFFICER),
    ]
    page = team.get(f"/admin/ideas/list?owner={colleague}").get_data(as_text=True)
    assert "ägare kollega" in page
    for user_id in others:
        page = team.get(f"/admin/ideas/list?owner={user_id}").get_data(as_text=True)
        assert "Hemlig" not in page, user_id


def test_a_merged_idea_follows_the_idea_it_joined(app: Flask, team: FlaskClient) -> None:
    target = new_idea(team)
    merged = new_idea(team, title="Bänkar längs ån", body="Samma sak, andra ord.")
    act(team, target, "move", stage="undersoka")
    act(team, merged, "merge", target=target)
    ongoing = status_json(team, merged, app)
    assert ongoing["stage"]["id"] == "undersoka" and ongoing["closed"] is None
    assert ongoing["merged_into"]["reference"] == target
    assert ongoing["merged_into"]["closed"] is None and ongoing["can_withdraw"] is False

    act(team, target, "move", stage="closed", close_reason="realised")
    public = status_json(team, merged, app)
    assert public["stage"]["id"] == "closed"
    assert public["closed"]["reason"] == "realised"
    assert public["merged_into"]["closed"]["reason"] == "realised"
    with app.test_request_context():
        from consent_service.ideas.services import status_token

        path = f"/ideas/status/{status_token(merged)}"
    html = team.get(path).get_data(as_text=True)
    assert f"sammanslagen med idé {target}" in html and "förverkligad" in html
    assert "arbetar vidare med dem tillsammans" not in html and "liknande idé" not in html
    english = team.get(path + "?lang=en").get_data(as_text=True)
    assert f"merged into idea {target}" in english and "implemented" in english


def test_evaluation_headers_wrap_between_words(app: Flask, team: FlaskClient) -> None:
    page = team.get("/admin/ideas/evaluation").get_data(as_text=True)
    assert '<html lang="sv"' in page
    style = page[page.index("<style nonce=") : page.index("</style>")]
    assert "overflow-wrap: normal" in style and "hyphens: auto" in style
    assert 'class="numbers evaluation-table"' in page
