"""The innovation team's pages at /admin/ideas: inbox, board, idea, portfolio, evaluation.

Plain server-rendered forms: every move is a button or a select, usable with keyboard,
mouse and screen reader alike, with no script needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role, User
from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.ideas import board, challenges, evaluation, export, mail, services
from consent_service.ideas.board import stage_name
from consent_service.ideas.catalog import (
    CLOSED,
    INBOX,
    LOOP_STAGES,
    SPAM,
    STAGES,
    TEAM_CLOSE_REASONS,
    current_catalog,
)
from consent_service.ideas.forms import (
    ChallengeForm,
    MergeForm,
    MessageForm,
    MoveForm,
    NoteForm,
    OwnerForm,
    PublishForm,
    SpamForm,
    StepForm,
    TagForm,
)
from consent_service.ideas.models import Idea, IdeaChallenge
from consent_service.ideas.views import status_url
from consent_service.web.formatting import format_date

bp = Blueprint("ideas_admin", __name__, url_prefix="/admin/ideas")

BOARD_CLOSED_SHOWN = 20
LIST_LIMIT = 500


def _render(template: str, **context: Any) -> str:
    catalog = current_catalog()
    return render_template(
        template,
        stage_name=stage_name,
        area_label=lambda a: catalog.area_label(a, "sv"),
        close_reason_label=lambda r: catalog.close_reason(r, "sv") if r else "",
        notices=get_flashed_messages(with_categories=True),
        now=utcnow(),
        **context,
    )


def _idea_or_404(reference: str) -> Idea:
    if not services.REFERENCE.fullmatch(reference):
        abort(404)
    idea = board.idea_by_reference(reference)
    if idea is None:
        abort(404)
    return idea


def _back(idea: Idea, back: str | None) -> BaseResponse:
    if back == "board":
        target = url_for(".board_page") + f"#idea-{idea.reference}"
    elif back == "inbox":
        target = url_for(".inbox")
    elif back == "spam":
        target = url_for(".spam_queue")
    else:
        target = url_for(".idea_page", reference=idea.reference)
    return redirect(target, code=303)


def _actor() -> User:
    user = current_user()
    assert user is not None  # role_required let only signed-in users through
    return user


def _act(idea: Idea, back: str | None, action: Callable[[], str]) -> BaseResponse:
    """Run a board action; flash its outcome (or the rule it broke) and go back."""
    try:
        flash(action(), "ok")
    except board.BoardError as exc:
        flash(str(exc), "error")
    return _back(idea, back)


def _challenge_filter() -> IdeaChallenge | None:
    """The challenge a page is filtered by (?challenge=slug); 404 for one that does not exist."""
    slug = request.args.get("challenge")
    if not slug:
        return None
    found = challenges.find(current_policy().site, slug)
    if found is None:
        abort(404)
    return found


def _valid(form: Any) -> None:
    if not form.validate():
        abort(400, "Formuläret kunde inte skickas. Ladda om sidan och försök igen.")


# --- pages --------------------------------------------------------------------------------------


@bp.get("")
@role_required(Role.INNOVATION)
def inbox() -> str:
    return _render(
        "admin/ideas/inbox.html",
        ideas=board.ideas_in([INBOX]),
        counts=board.stage_counts(),
        step_form=StepForm(),
        spam_form=SpamForm(),
    )


@bp.get("/board")
@role_required(Role.INNOVATION)
def board_page() -> str:
    chosen = _challenge_filter()
    only = chosen.id if chosen else None
    columns = [(stage, board.ideas_in([stage], challenge_id=only)) for stage in LOOP_STAGES]
    columns.append((CLOSED, board.ideas_in([CLOSED], limit=BOARD_CLOSED_SHOWN, challenge_id=only)))
    return _render(
        "admin/ideas/board.html",
        columns=columns,
        counts=board.stage_counts(only),
        all_challenges=challenges.challenges_of(current_policy().site),
        chosen=chosen,
        move_form=MoveForm(),
        step_form=StepForm(),
        loop_stages=(INBOX, *LOOP_STAGES),
        closed_shown=BOARD_CLOSED_SHOWN,
    )


@bp.get("/spam")
@role_required(Role.INNOVATION)
def spam_queue() -> str:
    return _render("admin/ideas/spam.html", ideas=board.ideas_in([SPAM]), spam_form=SpamForm())


@bp.get("/list")
@role_required(Role.INNOVATION)
def idea_list() -> str:
    """Ideas filtered by stage, area, owner, tag or age: where the portfolio's figures link."""
    args = request.args
    selection = board.select_ideas(
        stage=args.get("stage"),
        area=args.get("area"),
        owner=args.get("owner"),
        tag=args.get("tag"),
        age=args.get("age"),
        q=args.get("q"),
        limit=LIST_LIMIT,
    )
    return _render(
        "admin/ideas/list.html", ideas=selection.ideas, filters=selection.filters, limit=LIST_LIMIT
    )


@bp.get("/<reference>")
@role_required(Role.INNOVATION)
def idea_page(reference: str) -> str:
    idea = _idea_or_404(reference)
    move_form = MoveForm(data={"stage": idea.stage if idea.stage in STAGES else INBOX})
    owner_form = OwnerForm(data={"owner": str(idea.owner_id or "")})
    return _render(
        "admin/ideas/idea.html",
        idea=idea,
        history=[(e, board.describe_event(e)) for e in board.history(idea.id)],
        notes=board.notes(idea.id),
        messages=board.messages(idea.id),
        similar=board.similar_ideas(idea),
        masked=board.masked_on_public_pages(idea),
        members=board.team_members(),
        move_form=move_form,
        owner_form=owner_form,
        tag_form=TagForm(),
        note_form=NoteForm(),
        message_form=MessageForm(),
        merge_form=MergeForm(),
        spam_form=SpamForm(),
        publish_form=PublishForm(),
        stages=STAGES,
        close_reasons=TEAM_CLOSE_REASONS,
        mail_enabled=mail.mail_enabled(),
        # The team may open the citizen's view to check it; the link is not secret to them.
        status_url=url_for("ideas.status_page", token=services.status_token(idea.reference)),
    )


@bp.get("/portfolio")
@role_required(Role.INNOVATION)
def portfolio() -> str:
    figures = board.portfolio()
    fields = {f.name: getattr(figures, f.name) for f in dataclasses.fields(figures)}
    return _render("admin/ideas/portfolio.html", **fields)


@bp.get("/evaluation")
@role_required(Role.INNOVATION)
def evaluation_page() -> str:
    the_period = evaluation.period(request.args.get("from"), request.args.get("to"))
    chosen = _challenge_filter()
    result = evaluation.evaluate(the_period, challenge_id=chosen.id if chosen else None)
    catalog = current_catalog()
    return _render(
        "admin/ideas/evaluation.html",
        result=result,
        all_challenges=challenges.challenges_of(current_policy().site),
        chosen=chosen,
        **evaluation.charts(result),
        format_days=evaluation.format_days,
        format_share=evaluation.format_share,
        funnel=evaluation.FUNNEL,
        close_reason_text=lambda r: catalog.close_reason(r, "sv"),
    )


def _csv_response(lines: Iterable[str], filename: str) -> Response:
    # Built in memory: idea exports are thousands of rows, and a finished body lets an error
    # surface as an error page instead of a cut-off file.
    response = Response("".join(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.csv")
@role_required(Role.INNOVATION)
def export_ideas() -> Response:
    include_spam = request.args.get("spam") == "1"
    stamp = utcnow().strftime("%Y%m%d")
    return _csv_response(
        export.csv_lines(export.idea_rows(include_spam=include_spam)), f"ideer-{stamp}.csv"
    )


@bp.get("/evaluation.csv")
@role_required(Role.INNOVATION)
def export_evaluation() -> Response:
    the_period = evaluation.period(request.args.get("from"), request.args.get("to"))
    chosen = _challenge_filter()
    result = evaluation.evaluate(the_period, challenge_id=chosen.id if chosen else None)
    name = f"utvardering-{the_period.months[0]}-{the_period.months[-1]}"
    name += f"-{chosen.slug}.csv" if chosen else ".csv"
    return _csv_response(export.csv_lines(export.evaluation_rows(result)), name)


# --- challenges ---------------------------------------------------------------------------------


def _challenge_texts() -> dict[str, dict[str, str | None]]:
    """The per-language fields of the challenge form (question_sv, background_en, …)."""
    return {
        language: {
            field: request.form.get(f"{field}_{language}")
            for field in ("question", "background", "target_group")
        }
        for language in current_catalog().languages
    }


def _render_challenges(
    *, editing: IdeaChallenge | None = None, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    site = current_policy().site
    listed = challenges.challenges_of(site)
    on = challenges.today()
    return (
        _render(
            "admin/ideas/challenges.html",
            challenges=[(c, challenges.state(c, on), board.stage_counts(c.id)) for c in listed],
            editing=editing,
            form=ChallengeForm(),
            values=request.form if request.method == "POST" else None,
            error=error,
            loop_stages=LOOP_STAGES,
            languages=current_catalog().languages,
            language_name=challenges.language_name,
        ),
        status,
    )


@bp.get("/challenges")
@role_required(Role.INNOVATION)
def challenges_page() -> tuple[str, int]:
    return _render_challenges()


@bp.get("/challenges/<slug>")
@role_required(Role.INNOVATION)
def challenge_page(slug: str) -> tuple[str, int]:
    found = challenges.find(current_policy().site, slug)
    if found is None:
        abort(404)
    return _render_challenges(editing=found)


def _save_challenge(existing: IdeaChallenge | None) -> BaseResponse | tuple[str, int]:
    _valid(ChallengeForm())
    try:
        saved = challenges.save_challenge(
            site=current_policy().site,
            slug=request.form.get("slug", "") if existing is None else existing.slug,
            opens_on=request.form.get("opens_on"),
            closes_on=request.form.get("closes_on"),
            stage=request.form.get("stage"),
            texts=_challenge_texts(),
            actor=_actor(),
            existing=existing.slug if existing else None,
        )
    except challenges.ChallengeError as exc:
        return _render_challenges(editing=existing, status=400, error=str(exc))
    verb = "sparad" if existing else "publicerad"
    flash(f"Utmaningen {saved.slug} är {verb}.", "ok")
    return redirect(url_for(".challenge_page", slug=saved.slug), code=303)


@bp.post("/challenges")
@role_required(Role.INNOVATION)
def challenge_create() -> BaseResponse | tuple[str, int]:
    return _save_challenge(None)


@bp.post("/challenges/<slug>")
@role_required(Role.INNOVATION)
def challenge_update(slug: str) -> BaseResponse | tuple[str, int]:
    found = challenges.find(current_policy().site, slug)
    if found is None:
        abort(404)
    return _save_challenge(found)


# --- actions ------------------------------------------------------------------------------------


@bp.post("/<reference>/move")
@role_required(Role.INNOVATION)
def move(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = MoveForm()
    _valid(form)

    def action() -> str:
        change = board.move_idea(
            idea.id,
            form.stage.data or "",
            _actor(),
            message=form.message.data,
            close_reason=form.close_reason.data or None,
            status_url=status_url(idea.reference),
        )
        return f"{idea.reference} flyttades till {stage_name(change.stage)}."

    return _act(idea, form.back.data, action)


@bp.post("/<reference>/step")
@role_required(Role.INNOVATION)
def step(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = StepForm()
    _valid(form)

    def action() -> str:
        change = board.step_idea(
            idea.id, form.direction.data or "", _actor(), status_url=status_url(idea.reference)
        )
        return f"{idea.reference} flyttades till {stage_name(change.stage)}."

    return _act(idea, form.back.data, action)


@bp.post("/<reference>/owner")
@role_required(Role.INNOVATION)
def owner(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = OwnerForm()
    _valid(form)
    raw = (form.owner.data or "").strip()
    if raw and not raw.isdigit():
        abort(400, "Välj en ägare i listan.")

    def action() -> str:
        board.assign_owner(idea.id, int(raw) if raw else None, _actor())
        return "Ägaren är sparad."

    return _act(idea, None, action)


@bp.post("/<reference>/tags")
@role_required(Role.INNOVATION)
def add_tag(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = TagForm()
    _valid(form)

    def action() -> str:
        board.add_tag(idea.id, form.tag.data or "", _actor())
        return f"Taggen {board.normalise_tag(form.tag.data or '')} är tillagd."

    return _act(idea, None, action)


@bp.post("/<reference>/tags/remove")
@role_required(Role.INNOVATION)
def remove_tag(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = TagForm()
    _valid(form)

    def action() -> str:
        board.remove_tag(idea.id, form.tag.data or "", _actor())
        return f"Taggen {board.normalise_tag(form.tag.data or '')} är borttagen."

    return _act(idea, None, action)


@bp.post("/<reference>/notes")
@role_required(Role.INNOVATION)
def add_note(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = NoteForm()
    _valid(form)

    def action() -> str:
        board.add_note(idea.id, form.body.data or "", _actor())
        return "Anteckningen är sparad."

    return _act(idea, None, action)


@bp.post("/<reference>/messages")
@role_required(Role.INNOVATION)
def publish_message(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = MessageForm()
    _valid(form)

    def action() -> str:
        change = board.publish_message(
            idea.id, form.body.data or "", _actor(), status_url=status_url(idea.reference)
        )
        return "Meddelandet är publicerat" + (" och skickat med e-post." if change.mailed else ".")

    return _act(idea, None, action)


@bp.post("/<reference>/publish")
@role_required(Role.INNOVATION)
def publish(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = PublishForm()
    _valid(form)

    def action() -> str:
        if board.set_published(idea.id, form.action.data == "publish", _actor()):
            return f"{idea.reference} visas på den öppna idésidan, med personuppgifter maskerade."
        return f"{idea.reference} visas inte längre på den öppna idésidan."

    return _act(idea, None, action)


@bp.post("/<reference>/merge")
@role_required(Role.INNOVATION)
def merge(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = MergeForm()
    _valid(form)

    def action() -> str:
        board.merge_ideas(
            idea.id, form.target.data or "", _actor(), status_url=status_url(idea.reference)
        )
        return f"{idea.reference} är sammanslagen med {(form.target.data or '').strip().upper()}."

    return _act(idea, None, action)


@bp.post("/<reference>/spam")
@role_required(Role.INNOVATION)
def spam(reference: str) -> BaseResponse:
    idea = _idea_or_404(reference)
    form = SpamForm()
    _valid(form)
    back = request.args.get("back")

    def action() -> str:
        if form.action.data == "spam":
            board.mark_spam(idea.id, _actor())
            return f"{idea.reference} flyttades till skräp."
        board.release_spam(idea.id, _actor())
        return f"{idea.reference} flyttades till inkorgen."

    return _act(idea, back, action)


def idea_date(value: dt.datetime) -> str:
    """The `idea_date` template filter: a date as the board shows it (sv short: 2026-01-31)."""
    return format_date(value)
