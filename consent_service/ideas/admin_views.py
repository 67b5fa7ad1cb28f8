"""The innovation team's pages at /admin/ideas: inbox, board, idea, portfolio, evaluation.

Plain server-rendered forms: every move is a button or a select, usable with keyboard,
mouse and screen reader alike, with no script needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

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
from consent_service.ideas import (
    assessment,
    board,
    bulk,
    challenges,
    evaluation,
    export,
    mail,
    saved_filters,
    services,
)
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
    AssessmentForm,
    BulkForm,
    ChallengeForm,
    CriterionForm,
    MergeForm,
    MessageForm,
    MoveForm,
    NoteForm,
    OwnerForm,
    PublishForm,
    SavedFilterForm,
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
    return _render_board()


def _render_board(
    *, error: str | None = None, selected: Iterable[str] = (), values: Any = None
) -> str:
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
        members=board.team_members(),
        close_reasons=TEAM_CLOSE_REASONS,
        bulk_max=bulk.BULK_MAX,
        bulk_error=error,
        selected=set(selected),
        bulk_values=values or {},
        saved=saved_filters.filters_of(_actor()),
        filter_query=saved_filters.normalised_query("board", request.args),
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
        "admin/ideas/list.html",
        ideas=selection.ideas,
        filters=selection.filters,
        limit=LIST_LIMIT,
        saved=saved_filters.filters_of(_actor()),
        filter_query=_list_query(),
    )


def _list_query() -> str:
    try:
        return saved_filters.normalised_query("list", request.args)
    except saved_filters.FilterError:
        return ""


@bp.get("/<reference>")
@role_required(Role.INNOVATION)
def idea_page(reference: str) -> str:
    return _render_idea(_idea_or_404(reference))


def _render_idea(
    idea: Idea,
    *,
    assessment_error: assessment.AssessmentError | None = None,
    assessment_values: Any = None,
) -> str:
    scores = assessment.scores_of(idea)
    me = _actor()
    mine = next((a for a in scores.current if a.assessor_id == me.id), None)
    # What the scorecard form shows: what was just sent (when refused), else the member's
    # current assessment, else nothing.
    if assessment_values is not None:
        form_scores = {k: v or "" for k, v in assessment_values["scores"].items()}
        form_rationale = assessment_values["rationale"]
    elif mine is not None:
        form_scores = {s.criterion: str(s.score) for s in mine.scores}
        form_rationale = mine.rationale
    else:
        form_scores, form_rationale = {}, ""
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
        scores=scores,
        my_assessment=mine,
        my_revisions=assessment.history_of(idea.id, me.id) if mine else (),
        assessment_form=AssessmentForm(),
        assessment_error=assessment_error,
        form_scores=form_scores,
        form_rationale=form_rationale,
        quadrant_names=assessment.QUADRANT_NAMES,
        scale=assessment.SCALE,
        rationale_max=assessment.RATIONALE_MAX,
        # The team may open the citizen's view to check it; the link is not secret to them.
        status_url=url_for("ideas.status_page", token=services.status_token(idea.reference)),
    )


@bp.get("/portfolio")
@role_required(Role.INNOVATION)
def portfolio() -> str:
    figures = board.portfolio()
    fields = {f.name: getattr(figures, f.name) for f in dataclasses.fields(figures)}
    ongoing = board.ideas_in((INBOX, *LOOP_STAGES))
    placed = assessment.placements(ongoing)
    return _render(
        "admin/ideas/portfolio.html",
        assessed=[placed[i.id] for i in ongoing if i.id in placed],
        quadrant_names=assessment.QUADRANT_NAMES,
        **fields,
    )


@bp.get("/matrix")
@role_required(Role.INNOVATION)
def matrix_page() -> str:
    """The 2x2 benefit/effort view of ongoing ideas, optionally of one challenge."""
    chosen = _challenge_filter()
    ideas = board.ideas_in((INBOX, *LOOP_STAGES), challenge_id=chosen.id if chosen else None)
    return _render(
        "admin/ideas/matrix.html",
        result=assessment.matrix(ideas),
        quadrants=assessment.QUADRANTS,
        quadrant_names=assessment.QUADRANT_NAMES,
        quadrant_hints=assessment.QUADRANT_HINTS,
        all_challenges=challenges.challenges_of(current_policy().site),
        chosen=chosen,
        midpoint=assessment.MIDPOINT,
    )


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
    *,
    editing: IdeaChallenge | None = None,
    status: int = 200,
    error: str | None = None,
    criterion_error: str | None = None,
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
            values=request.form if request.method == "POST" and not criterion_error else None,
            criterion_values=request.form if criterion_error else {},
            error=error,
            loop_stages=LOOP_STAGES,
            languages=current_catalog().languages,
            language_name=challenges.language_name,
            criteria=assessment.criteria_of(editing) if editing else (),
            criterion_form=CriterionForm(),
            criterion_error=criterion_error,
            criterion_roles=CRITERION_ROLES,
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


CRITERION_ROLES = (
    (assessment.BENEFIT, "Nytta (högt är bra; 2×2-vyns lodräta axel)"),
    (assessment.EFFORT, "Insats (lägre är bättre; 2×2-vyns vågräta axel)"),
    (assessment.OTHER, "Annat (högt är bra)"),
)


def _challenge_or_404(slug: str) -> IdeaChallenge:
    found = challenges.find(current_policy().site, slug)
    if found is None:
        abort(404)
    return found


@bp.post("/challenges/<slug>/criteria")
@role_required(Role.INNOVATION)
def criterion_add(slug: str) -> BaseResponse | tuple[str, int]:
    found = _challenge_or_404(slug)
    _valid(CriterionForm())
    form = request.form
    try:
        added = assessment.add_criterion(
            found, form.get("label_sv", ""), form.get("label_en", ""), form.get("role", "")
        )
    except assessment.AssessmentError as exc:
        return _render_challenges(editing=found, status=400, criterion_error=str(exc))
    flash(f"Kriteriet ”{added.label_sv}” är tillagt.", "ok")
    return redirect(url_for(".challenge_page", slug=found.slug) + "#criteria", code=303)


@bp.post("/challenges/<slug>/criteria/remove")
@role_required(Role.INNOVATION)
def criterion_remove(slug: str) -> BaseResponse | tuple[str, int]:
    found = _challenge_or_404(slug)
    _valid(CriterionForm())
    try:
        name = assessment.remove_criterion(found, request.form.get("key", ""))
    except assessment.AssessmentError as exc:
        return _render_challenges(editing=found, status=400, criterion_error=str(exc))
    flash(f"Kriteriet ”{name}” är borttaget.", "ok")
    return redirect(url_for(".challenge_page", slug=found.slug) + "#criteria", code=303)


# --- actions ------------------------------------------------------------------------------------


@bp.post("/<reference>/assessment")
@role_required(Role.INNOVATION)
def assess(reference: str) -> BaseResponse | tuple[str, int]:
    """Record or revise the signed-in member's scorecard; a refused one comes back (400) with
    everything that was entered still in the form."""
    idea = _idea_or_404(reference)
    _valid(AssessmentForm())
    criteria = assessment.criteria_of(idea.challenge)
    scores = {c.key: request.form.get(f"score_{c.key}") for c in criteria}
    extra = [k[6:] for k in request.form if k.startswith("score_") and k[6:] not in scores]
    scores.update({k: request.form.get(f"score_{k}") for k in extra})
    try:
        saved = assessment.record_assessment(
            idea.id, _actor(), scores, request.form.get("rationale")
        )
    except assessment.AssessmentError as exc:
        values = {"scores": scores, "rationale": request.form.get("rationale", "")}
        return _render_idea(idea, assessment_error=exc, assessment_values=values), 400
    verb = "sparad" if saved.revision == 1 else "ändrad"
    flash(f"Din bedömning av {idea.reference} är {verb}.", "ok")
    return redirect(url_for(".idea_page", reference=idea.reference) + "#assessment", code=303)


@bp.post("/bulk")
@role_required(Role.INNOVATION)
def bulk_change() -> BaseResponse | tuple[str, int]:
    """One change for the ideas ticked on the board; a refused selection or target changes
    nothing and comes back (400) with the same ideas ticked."""
    _valid(BulkForm())
    form = request.form
    chosen = form.getlist("idea")
    try:
        result = bulk.bulk_change(
            chosen,
            form.get("action", ""),
            _actor(),
            stage=form.get("stage"),
            tag=form.get("tag"),
            owner=form.get("owner"),
            close_reason=form.get("close_reason"),
            status_url=status_url,
        )
    except bulk.BulkError as exc:
        return _render_board(error=str(exc), selected=chosen, values=form), 400
    flash(_bulk_summary(result), "ok" if not result.refused else "error")
    target = url_for(".board_page", challenge=request.args.get("challenge") or None)
    return redirect(target, code=303)


def _bulk_summary(result: bulk.BulkResult) -> str:
    done = {
        bulk.MOVE: "flyttades",
        bulk.CLOSE: "avslutades",
        bulk.TAG: "taggades",
        bulk.OWNER: "fick ny ägare",
    }[result.action]
    text = f"{len(result.changed)} idéer {done}"
    text += f": {', '.join(result.changed)}." if result.changed else "."
    if result.refused:
        text += " Oförändrade: " + "; ".join(f"{r} ({why})" for r, why in result.refused) + "."
    return text


@bp.post("/filters")
@role_required(Role.INNOVATION)
def save_filter() -> BaseResponse:
    _valid(SavedFilterForm())
    view = request.form.get("view", "")
    query = request.form.get("query", "")
    if len(query) > 2000:
        abort(400, "Filtret är för långt.")
    args = dict(parse_qsl(query))
    try:
        saved = saved_filters.save_filter(_actor(), request.form.get("name", ""), view, args)
    except saved_filters.FilterError as exc:
        abort(400, str(exc))
    flash(f"Filtret ”{saved.name}” är sparat.", "ok")
    return redirect(_filter_url(saved.view, saved.query), code=303)


def _filter_url(view: str, query: str) -> str:
    page = url_for(".idea_list") if view == "list" else url_for(".board_page")
    return page + (f"?{query}" if query else "")


@bp.post("/filters/<int:filter_id>/delete")
@role_required(Role.INNOVATION)
def delete_filter(filter_id: int) -> BaseResponse:
    _valid(SavedFilterForm())
    name = saved_filters.delete_filter(_actor(), filter_id)
    if name is None:
        abort(404)
    flash(f"Filtret ”{name}” är borttaget.", "ok")
    back = url_for(".idea_list") if request.form.get("back") == "list" else url_for(".board_page")
    return redirect(back, code=303)


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
