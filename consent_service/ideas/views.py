"""The citizen's pages: the no-JavaScript idea form and the private status page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from consent_service import ratelimit
from consent_service.consent.services import current_policy
from consent_service.ideas import challenges, openpage, receipts, services
from consent_service.ideas.catalog import CLOSED, STAGES, current_catalog
from consent_service.ideas.forms import CitizenActionForm, IdeaForm, WithdrawForm
from consent_service.ideas.models import Idea
from consent_service.web.origins import own_origin

bp = Blueprint("ideas", __name__, url_prefix="/ideas")


def status_url(reference: str) -> str:
    """The citizen's private status link, absolute: for the widget's answer and e-mail."""
    path = url_for("ideas.status_page", token=services.status_token(reference))
    return own_origin() + path


def _language(*candidates: str | None) -> str:
    catalog = current_catalog()
    for tag in candidates:
        if tag and catalog.language_for(tag) == tag.strip().lower().split("-")[0]:
            return catalog.language_for(tag)
    return request.accept_languages.best_match(catalog.languages) or catalog.default_language


def _page(
    template: str, language: str, status: int = 200, variant: str | None = None, **context: Any
) -> Response:
    catalog = current_catalog()
    html = render_template(
        template,
        language=language,
        direction=catalog.direction(language),
        texts=catalog.page_texts(language),
        widget=catalog.widget_texts(language, variant),
        variant=variant,
        other_languages=[lang for lang in catalog.languages if lang != language],
        catalog=catalog,
        limits=services.limits(),
        **context,
    )
    response = current_app.make_response((html, status))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the open idea page -------------------------------------------------------------------------


@bp.get("")
def open_ideas() -> Response:
    """The ideas the team published, masked, and what happened to every idea per quarter."""
    language = _language(request.args.get("lang"))
    site = current_policy().site
    texts = current_catalog().open_texts(language)
    quarters = openpage.quarterly_figures(site)
    response = _page(
        "ideas/open.html",
        language,
        open_texts=texts,
        ideas=openpage.published_ideas(site, language),
        quarters=quarters,
        received_chart=openpage.received_chart(quarters, language),
        challenges=openpage.challenge_figures(site, language),
        quarter_label=lambda q: texts["quarter_label"].format(year=q.year, quarter=q.quarter),
        open_stages=openpage.OPEN_STAGES,
        other_reasons=openpage.OTHER_CLOSE_REASONS,
    )
    response.vary.add("Accept-Language")
    return response


# --- the no-JavaScript form ---------------------------------------------------------------------


def _render_form(
    form: IdeaForm,
    language: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    found = challenges.find(current_policy().site, form.challenge.data)
    return _page(
        "ideas/new.html",
        language,
        status,
        # ?lang=sv-lattlast: the form's labels and messages in easy Swedish.
        variant=current_catalog().variant(form.lang.data),
        form=form,
        errors=errors or {},
        notice=notice,
        areas=current_catalog().form_areas(language),
        challenge=challenges.public_view(found, language) if found else None,
    )


@bp.get("/new")
def new_idea() -> Response:
    language = _language(request.args.get("lang"))
    form = IdeaForm(
        data={
            "lang": current_catalog().variant(request.args.get("lang")) or language,
            "topic": request.args.get("topic", "")[:64],
            "page": services.clean_page(request.args.get("page")) or "",
            "form_token": services.issue_form_token(),
            "challenge": request.args.get("challenge", "")[:64],
        }
    )
    found = challenges.find(current_policy().site, form.challenge.data)
    if form.challenge.data and found is None:
        form.challenge.data = ""
        notice = challenges.ChallengeUnavailable("unknown").message(language)
        return _render_form(form, language, status=404, notice=notice)
    return _render_form(form, language)


@bp.post("/new")
def new_idea_submit() -> Response | BaseResponse:
    form = IdeaForm()
    language = _language(form.lang.data)
    if not form.validate():
        form.form_token.data = services.issue_form_token()
        texts = current_catalog().page_texts(language)
        return _render_form(form, language, status=400, notice=texts["form_error"])
    try:
        submitted = services.submit_idea(
            title=form.title.data,
            body=form.body.data,
            area=form.area.data,
            language=language,
            client=ratelimit.client_key(),
            topic=form.topic.data,
            page=form.page.data,
            name=form.name.data,
            email=form.email.data,
            contact_ok=bool(form.contact_ok.data),
            website=form.website.data,
            form_token=form.form_token.data,
            challenge=form.challenge.data or None,
        )
    except services.InvalidIdea as exc:
        return _render_form(form, language, status=400, errors=exc.errors)
    except challenges.ChallengeUnavailable as exc:
        status = 400 if exc.reason == "unknown" else 409
        return _render_form(form, language, status=status, notice=exc.message(language))
    except services.TooManyIdeas as exc:
        message = current_catalog().widget_texts(language)["limited"].format(minutes=exc.minutes)
        response = _render_form(form, language, status=429, notice=message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    token = services.status_token(submitted.reference)
    done = redirect(url_for("ideas.status_page", token=token, notice="received"), code=303)
    return done if submitted.replayed else receipts.deliver_after(done, submitted.reference)


# --- the status page ----------------------------------------------------------------------------


def _idea_or_404(token: str) -> Idea:
    idea = services.idea_for_token(token)
    if idea is None:
        abort(404, "There is no idea behind this link. Check that the whole address was copied.")
    return idea


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get("/status/<token>")
def status_page(token: str) -> Response:
    idea = _idea_or_404(token)
    language = _language(request.args.get("lang"), idea.language)
    view = services.public_view(idea, language)
    if _wants_json():
        response = jsonify(view)
    else:
        notice = request.args.get("notice")
        if notice not in ("received", "withdrawn", "contact_deleted"):
            notice = None
        catalog = current_catalog()
        response = _page(
            "ideas/status.html",
            language,
            idea=view,
            stages=[
                (s, catalog.stage_label(s, language), catalog.stage_explanation(s, language))
                for s in STAGES
            ],
            has_contact=idea.contact is not None,
            notice=notice,
            form=CitizenActionForm(),
            token=token,
        )
    response.vary.add("Accept")
    return _private(response)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    # The token is the key to the page: never let it travel on in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _after_action(token: str, notice: str, language: str) -> BaseResponse:
    query = urlencode({"notice": notice, "lang": language})
    return redirect(url_for("ideas.status_page", token=token) + "?" + query, code=303)


@bp.get("/status/<token>/withdraw")
def withdraw_confirm(token: str) -> Response | BaseResponse:
    """Ask before withdrawing: a page of its own, so it works without JavaScript."""
    idea = _idea_or_404(token)
    language = _language(request.args.get("lang"), idea.language)
    if idea.stage == CLOSED:
        return redirect(url_for("ideas.status_page", token=token, lang=language), code=303)
    response = _page(
        "ideas/withdraw.html",
        language,
        idea=services.public_view(idea, language),
        form=WithdrawForm(data={"confirm": "yes"}),
        token=token,
    )
    return _private(response)


@bp.post("/status/<token>/withdraw")
def withdraw(token: str) -> BaseResponse:
    idea = _idea_or_404(token)
    form = WithdrawForm()
    if not form.validate():
        abort(400, "The form could not be sent. Reload the page and try again.")
    language = _language(request.args.get("lang"), idea.language)
    if form.confirm.data != "yes":
        # Not from the confirmation page: ask there first.
        return redirect(url_for("ideas.withdraw_confirm", token=token, lang=language), code=303)
    services.withdraw_by_citizen(idea.id)
    return _after_action(token, "withdrawn", language)


@bp.post("/status/<token>/contact/delete")
def delete_contact(token: str) -> BaseResponse:
    idea = _idea_or_404(token)
    if not CitizenActionForm().validate():
        abort(400, "The form could not be sent. Reload the page and try again.")
    services.delete_contact_by_citizen(idea.id)
    return _after_action(
        token, "contact_deleted", _language(request.args.get("lang"), idea.language)
    )
