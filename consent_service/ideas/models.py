"""Ideas from citizens and the innovation team's work on them.

Personal data lives only in `idea_contacts` (name, e-mail), one row per idea, so that it can
be deleted on its own — when the citizen asks, or when the idea has been closed for the
retention period — while the idea itself, a public record, stays. No IP address or user
agent is stored anywhere.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consent_service.admin.models import User
from consent_service.db import Model, UTCDateTime, datetime_utc, sha256_hex, site_id


class IdeaCounter(Model):
    """The last reference number given out in a year; writers lock the row."""

    __tablename__ = "idea_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Idea(Model):
    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    # IDE-2026-000123: what the citizen quotes, and the key of the signed status link.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    received_at: Mapped[datetime_utc] = mapped_column(index=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str | None] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(2000))
    # sha256 of the normalised title and body: finds the same text sent again.
    text_hash: Mapped[sha256_hex] = mapped_column(index=True)
    # A client's retry key: a retry with the same key answers the idea stored the first time.
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "new" (the inbox), one of the loop's stages, "closed", or "spam" (a separate queue).
    stage: Mapped[str] = mapped_column(String(32), index=True)
    stage_changed_at: Mapped[datetime_utc]
    spam_reason: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The challenge (utmaning) the idea answers, when sent from a challenge's widget or form.
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("idea_challenges.id"), index=True)
    # Swedish word stems of title and body between spaces, for the board's search on SQLite
    # (search.py; PostgreSQL stems with to_tsvector('swedish') instead).
    search_stems: Mapped[str | None] = mapped_column(Text)
    # Shown on the open idea page (/ideas), masked; the team decides idea by idea.
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User | None] = relationship(lazy="joined")
    challenge: Mapped[IdeaChallenge | None] = relationship(lazy="joined")
    merged_into: Mapped[Idea | None] = relationship(remote_side=[id], lazy="joined")
    contact: Mapped[IdeaContact | None] = relationship(
        back_populates="idea", lazy="joined", cascade="all, delete-orphan", uselist=False
    )
    tags: Mapped[list[IdeaTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IdeaTag.tag"
    )


class IdeaChallenge(Model):
    """A question the innovation team asks the public (utmaning), open between two dates.

    Its texts are per language (`IdeaChallengeText`); the dates are calendar days in Sweden,
    both included. `stage` is where in the loop the team's work on the challenge is.
    """

    __tablename__ = "idea_challenges"
    __table_args__ = (UniqueConstraint("site", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    # What a web editor writes in data-challenge="…": lower-case letters, digits, hyphens.
    slug: Mapped[str] = mapped_column(String(64))
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime_utc]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    texts: Mapped[list[IdeaChallengeText]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IdeaChallengeText.language"
    )

    def text(self, language: str, default_language: str) -> IdeaChallengeText | None:
        """The texts in `language`, else in the default language (the team's own)."""
        by_language = {t.language: t for t in self.texts}
        return by_language.get(language) or by_language.get(default_language)


class IdeaChallengeText(Model):
    __tablename__ = "idea_challenge_texts"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("idea_challenges.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    background: Mapped[str] = mapped_column(Text)
    target_group: Mapped[str] = mapped_column(String(300))


class IdeaContact(Model):
    """The citizen's name and e-mail; never shown publicly, deleted on its own schedule."""

    __tablename__ = "idea_contacts"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    # The explicit "you may contact me about this idea"; e-mail is stored only with it.
    contact_ok: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime_utc]

    idea: Mapped[Idea] = relationship(back_populates="contact")


class IdeaTag(Model):
    __tablename__ = "idea_tags"
    __table_args__ = (UniqueConstraint("idea_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(40), index=True)


class IdeaNote(Model):
    """An internal note of the innovation team; never shown to the citizen."""

    __tablename__ = "idea_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime_utc]
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship(lazy="joined")


class IdeaMessage(Model):
    """A public status message, shown to the citizen on the status page with its stage."""

    __tablename__ = "idea_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stage: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[datetime_utc]
    body: Mapped[str] = mapped_column(Text)


class IdeaEvent(Model):
    """One line of an idea's history: who did what, when (moves carry both stages)."""

    __tablename__ = "idea_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime_utc] = mapped_column(index=True)
    # None: the citizen or the service itself.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")


class IdeaCriterion(Model):
    """A scorecard criterion of a challenge; a challenge without any uses the default set
    (assessment.DEFAULT_CRITERIA). `role` says what the 2x2 view reads it as."""

    __tablename__ = "idea_criteria"
    __table_args__ = (UniqueConstraint("challenge_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("idea_challenges.id", ondelete="CASCADE"), index=True
    )
    # Stored with every score: "benefit", "effort", "fit" (the defaults) or "k1", "k2", …
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    # "benefit", "effort" (lower is better) or "other".
    role: Mapped[str] = mapped_column(String(16))
    label_sv: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))


class IdeaAssessment(Model):
    """One team member's scorecard for an idea. A revision is a new row with the next
    `revision`; the highest is the one that counts, the others are the history."""

    __tablename__ = "idea_assessments"
    __table_args__ = (UniqueConstraint("idea_id", "assessor_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[datetime_utc]
    rationale: Mapped[str] = mapped_column(String(500))

    assessor: Mapped[User] = relationship(lazy="joined")
    scores: Mapped[list[IdeaAssessmentScore]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IdeaAssessmentScore.position"
    )


class IdeaAssessmentScore(Model):
    """A score 1 to 5 on one criterion. The criterion's name and role are copied in, so that a
    scorecard reads as it was given even after the challenge's criteria change."""

    __tablename__ = "idea_assessment_scores"

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("idea_assessments.id", ondelete="CASCADE"), primary_key=True
    )
    criterion: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(80))
    score: Mapped[int] = mapped_column(Integer)


class IdeaSavedFilter(Model):
    """A team member's named filter of the board or the idea list (its query string)."""

    __tablename__ = "idea_saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    # "board" or "list": the page the filter opens.
    view: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime_utc]
