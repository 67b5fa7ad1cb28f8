"""Challenges (utmaningar): questions the innovation team puts to the public for a while.

The team publishes a challenge with a question, its background and target group (per
language; the default language is required), the days it takes ideas and where in the loop
its work is. A web editor embeds `<div data-idea-widget data-challenge="slug">`; the widget
and the no-JS form show the question, and an idea sent while the challenge is open is stored
with it. Before it opens or after it closes, a submission is refused with a message that says
when. Days are calendar days in Sweden, both ends included. Works without HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from sqlalchemy import select

from consent_service.admin.models import User
from consent_service.db import db, utcnow
from consent_service.ideas.catalog import LOOP_STAGES, current_catalog
from consent_service.ideas.models import IdeaChallenge, IdeaChallengeText

# The municipality's calendar: a challenge that closes on the 31st takes ideas all that day.
ZONE = ZoneInfo("Europe/Stockholm")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
QUESTION_MAX = 300
BACKGROUND_MAX = 4000
TARGET_GROUP_MAX = 300
UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(ZONE).date()


def state(challenge: IdeaChallenge, on: dt.date) -> str:
    if on < challenge.opens_on:
        return UPCOMING
    if on > challenge.closes_on:
        return CLOSED
    return OPEN


def find(site: str, slug: str | None) -> IdeaChallenge | None:
    if not slug or not SLUG.fullmatch(slug):
        return None
    return db.session.scalar(
        select(IdeaChallenge).where(IdeaChallenge.site == site, IdeaChallenge.slug == slug)
    )


def challenges_of(site: str) -> Sequence[IdeaChallenge]:
    """The site's challenges, the latest to open first."""
    return db.session.scalars(
        select(IdeaChallenge)
        .where(IdeaChallenge.site == site)
        .order_by(IdeaChallenge.opens_on.desc(), IdeaChallenge.id.desc())
    ).all()


# --- the citizen's side --------------------------------------------------------------------------


class ChallengeUnavailable(Exception):
    """No such challenge (`unknown`), or it does not take ideas now (`upcoming`, `closed`)."""

    def __init__(self, reason: str, challenge: IdeaChallenge | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.challenge = challenge

    def message(self, language: str) -> str:
        """What the citizen is told, in their language."""
        texts = current_catalog().page_texts(language)
        if self.challenge is None:
            return texts["challenge_unknown"]
        key = "challenge_upcoming" if self.reason == UPCOMING else "challenge_closed"
        return texts[key].format(
            opens=self.challenge.opens_on.isoformat(), closes=self.challenge.closes_on.isoformat()
        )


def accepting(site: str, slug: str, now: dt.datetime | None = None) -> IdeaChallenge:
    """The challenge an idea is sent to, if it takes ideas today; else ChallengeUnavailable."""
    challenge = find(site, slug)
    if challenge is None:
        raise ChallengeUnavailable("unknown")
    current = state(challenge, today(now))
    if current != OPEN:
        raise ChallengeUnavailable(current, challenge)
    return challenge


def public_view(
    challenge: IdeaChallenge, language: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """What the widget, the form and the open idea page show of a challenge.

    `lang` is the language the texts are in: the default language when there is no
    translation, so that the page can mark it.
    """
    catalog = current_catalog()
    text = challenge.text(language, catalog.default_language)
    current = state(challenge, today(now))
    view: dict[str, Any] = {
        "slug": challenge.slug,
        "lang": text.language if text else catalog.default_language,
        "question": text.question if text else challenge.slug,
        "background": text.background if text else "",
        "target_group": text.target_group if text else "",
        "opens_on": challenge.opens_on.isoformat(),
        "closes_on": challenge.closes_on.isoformat(),
        "state": current,
        "open": current == OPEN,
        "stage": {
            "id": challenge.stage,
            "label": catalog.stage_label(challenge.stage, language),
        },
    }
    if current != OPEN:
        view["message"] = ChallengeUnavailable(current, challenge).message(language)
    return view


# --- the team's side ---------------------------------------------------------------------------


class ChallengeError(ValueError):
    """A challenge the rules do not allow; the message is shown to the team as it is."""


@dataclass(frozen=True)
class ChallengeText:
    question: str
    background: str
    target_group: str


def _date(value: str | None, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ChallengeError(f"Skriv {what} som ÅÅÅÅ-MM-DD.") from None


def language_name(language: str) -> str:
    """A language as the board (Swedish) names it: "engelska"."""
    try:
        return str(Locale.parse(language).get_display_name("sv") or language)
    except (UnknownLocaleError, ValueError):
        return language


def _texts(raw: Mapping[str, Mapping[str, str | None]]) -> dict[str, ChallengeText]:
    catalog = current_catalog()
    texts: dict[str, ChallengeText] = {}
    for language in catalog.languages:
        fields = raw.get(language, {})
        question = " ".join((fields.get("question") or "").split())
        background = (fields.get("background") or "").replace("\r\n", "\n").strip()
        target_group = " ".join((fields.get("target_group") or "").split())
        name = language_name(language)
        required = language == catalog.default_language
        if not (question or background or target_group or required):
            continue
        if not question:
            raise ChallengeError(
                f"Skriv frågan på {name}." if required else
                f"Skriv frågan på {name}, eller lämna språket tomt."
            )  # fmt: skip
        if len(question) > QUESTION_MAX:
            raise ChallengeError(f"Frågan får vara högst {QUESTION_MAX} tecken.")
        if len(background) > BACKGROUND_MAX:
            raise ChallengeError(f"Bakgrunden får vara högst {BACKGROUND_MAX} tecken.")
        if len(target_group) > TARGET_GROUP_MAX:
            raise ChallengeError(f"Målgruppen får vara högst {TARGET_GROUP_MAX} tecken.")
        texts[language] = ChallengeText(question, background, target_group)
    return texts


def save_challenge(
    *,
    site: str,
    slug: str,
    opens_on: str | None,
    closes_on: str | None,
    stage: str | None,
    texts: Mapping[str, Mapping[str, str | None]],
    actor: User,
    existing: str | None = None,
) -> IdeaChallenge:
    """Publish a new challenge, or change the one whose slug is `existing`."""
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise ChallengeError(
            "Kortnamnet är 1–64 tecken: små bokstäver a–z, siffror och bindestreck."
        )
    first, last = _date(opens_on, "första dagen"), _date(closes_on, "sista dagen")
    if last < first:
        raise ChallengeError("Sista dagen kan inte vara före första dagen.")
    if stage not in LOOP_STAGES:
        raise ChallengeError("Välj ett steg i innovationsloopen.")
    checked = _texts(texts)
    with db.writing() as session:
        other = session.scalar(
            select(IdeaChallenge).where(IdeaChallenge.site == site, IdeaChallenge.slug == slug)
        )
        if existing is None:
            if other is not None:
                raise ChallengeError(f"Det finns redan en utmaning med kortnamnet {slug}.")
            challenge = IdeaChallenge(
                site=site, slug=slug, created_at=utcnow(), created_by_id=actor.id
            )
            session.add(challenge)
        else:
            found = session.scalar(
                select(IdeaChallenge)
                .where(IdeaChallenge.site == site, IdeaChallenge.slug == existing)
                .with_for_update()
            )
            if found is None:
                raise ChallengeError("Utmaningen finns inte längre.")
            if slug != existing:
                # The slug is in web editors' pages: it never changes once published.
                raise ChallengeError("Kortnamnet kan inte ändras när utmaningen är publicerad.")
            challenge = found
        challenge.opens_on, challenge.closes_on, challenge.stage = first, last, stage
        kept = {t.language: t for t in challenge.texts}
        for language, text in checked.items():
            row = kept.pop(language, None)
            if row is None:
                row = IdeaChallengeText(language=language)
                challenge.texts.append(row)
            row.question, row.background = text.question, text.background
            row.target_group = text.target_group
        for row in kept.values():
            challenge.texts.remove(row)
        session.flush()
    return challenge
