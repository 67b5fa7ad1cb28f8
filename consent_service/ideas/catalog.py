"""The idea loop's fixed vocabulary and the configured service areas and texts.

The stages are the municipality's innovation loop (Ringa in → … → Förverkliga); their ids
are stored and exported, so they never change. Areas and texts come from TOML files so that
a new area or a new language is data, not code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from consent_service.web.languages import language_for

HERE = Path(__file__).parent
DEFAULT_AREAS_FILE = HERE / "areas.toml"
TEXTS_FILE = HERE / "texts.toml"

INBOX = "new"
CLOSED = "closed"
SPAM = "spam"
LOOP_STAGES = ("ringa_in", "undersoka", "fokusera", "ta_fram_ideer", "testa_ideer", "forverkliga")
# Every stage a citizen can see, in order: the inbox, the loop, closed.
STAGES = (INBOX, *LOOP_STAGES, CLOSED)
# Reasons the team chooses when closing; "merged" and "withdrawn" follow from actions.
TEAM_CLOSE_REASONS = ("realised", "not_pursued", "out_of_scope")
CLOSE_REASONS = (*TEAM_CLOSE_REASONS, "merged", "withdrawn")
SPAM_REASONS = ("honeypot", "no_form_token", "too_fast", "stale_form", "duplicate", "team")

WIDGET_KEYS = (
    "intro", "title", "body", "area", "choose", "required", "contact", "name", "email",
    "contact_ok", "public", "next", "submit", "sending", "left", "over", "title_missing",
    "title_long", "body_missing", "body_long", "area_missing", "name_long", "email_invalid",
    "email_missing", "contact_ok_missing", "errors", "limited", "unreachable", "failed", "nojs",
    "thanks", "reference", "status", "keep", "another", "trap",
)  # fmt: skip
PAGE_KEYS = (
    "new_title", "new_intro", "status_title", "received", "reference", "sent", "area", "now",
    "loop", "current", "messages", "no_messages", "merged", "merged_closed", "closed_reason",
    "contact_on_file", "contact_kept", "no_contact", "delete_contact", "contact_deleted",
    "withdraw", "withdraw_help", "withdrawn", "withdraw_question", "withdraw_yes", "withdraw_no",
    "request_id_reused", "form_error", "fix_errors", "back_home", "challenge", "challenge_unknown",
    "challenge_upcoming", "challenge_closed",
)  # fmt: skip

OPEN_KEYS = (
    "title", "intro", "send_idea", "published", "none_published", "reference", "received",
    "area", "stage", "closed", "merged", "messages", "masked", "figures", "figures_intro",
    "stages_caption", "closed_caption", "quarter", "quarter_label", "received_count", "realised",
    "closed_other", "no_ideas", "status_link", "mask_personnummer", "mask_samordningsnummer",
    "mask_email", "mask_phone", "challenges", "challenge_background", "challenge_target",
    "challenge_period", "challenge_stage", "challenge_answer", "challenge_upcoming",
    "challenge_open", "challenge_closed", "challenge_figures", "challenge_caption",
    "challenge_column", "without_challenge", "chart_caption",
)  # fmt: skip


class CatalogError(ValueError):
    """areas.toml or texts.toml is malformed."""


@dataclass(frozen=True)
class Area:
    id: str
    labels: dict[str, str]
    retired: bool = False


@dataclass(frozen=True)
class Catalog:
    default_language: str
    languages: tuple[str, ...]
    areas: tuple[Area, ...]
    texts: dict[str, dict[str, Any]] = field(repr=False)

    def language_for(self, tag: str | None) -> str:
        """Map a tag such as 'en-GB' to one of the catalog's languages (else the default)."""
        return language_for(tag, self.languages, self.default_language)

    def active_areas(self) -> tuple[Area, ...]:
        return tuple(a for a in self.areas if not a.retired)

    def area_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.active_areas())

    def area_label(self, area_id: str, language: str) -> str:
        for area in self.areas:
            if area.id == area_id:
                return area.labels[language]
        return area_id

    def form_areas(self, language: str) -> list[dict[str, str]]:
        return [{"id": a.id, "label": a.labels[language]} for a in self.active_areas()]

    def variant(self, tag: str | None) -> str | None:
        """The text variant a tag names, such as 'sv-lattlast' (easy Swedish), else None."""
        key = (tag or "").strip().lower()
        return key if key in self.texts.get("variants", {}) else None

    def widget_texts(self, language: str, variant: str | None = None) -> dict[str, str]:
        """The widget's texts; a variant of `language` replaces them (texts.toml [variants])."""
        texts = dict(self.texts[language]["widget"])
        if variant is not None and self.texts["variants"][variant]["language"] == language:
            texts.update(self.texts["variants"][variant]["widget"])
        return texts

    def page_texts(self, language: str) -> dict[str, str]:
        return dict(self.texts[language]["page"])

    def open_texts(self, language: str) -> dict[str, str]:
        """The open idea page's texts (/ideas)."""
        return dict(self.texts[language]["open"])

    def stage_label(self, stage: str, language: str) -> str:
        shown = INBOX if stage == SPAM else stage
        return str(self.texts[language]["stages"][shown][0])

    def stage_explanation(self, stage: str, language: str) -> str:
        shown = INBOX if stage == SPAM else stage
        return str(self.texts[language]["stages"][shown][1])

    def close_reason(self, reason: str, language: str) -> str:
        return str(self.texts[language]["close_reasons"][reason])

    def direction(self, language: str) -> str:
        return str(self.texts[language]["dir"])


def _require(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if not isinstance(table.get(k), str) or not table[k].strip()]
    if missing:
        raise CatalogError(f"{where}: missing text(s) {', '.join(missing)}")


def load_catalog(areas_file: str | Path) -> Catalog:
    """Read and check texts.toml and the areas file; raise CatalogError when malformed."""
    with open(TEXTS_FILE, "rb") as f:
        texts = tomllib.load(f)
    with open(areas_file, "rb") as f:
        areas_doc = tomllib.load(f)
    languages = tuple(texts.get("languages", ()))
    default = texts.get("default_language")
    if not languages or not isinstance(default, str) or default not in languages:
        raise CatalogError("texts.toml: default_language must be one of languages")
    for lang in languages:
        table = texts.get(lang)
        if not isinstance(table, dict) or table.get("dir") not in ("ltr", "rtl"):
            raise CatalogError(f"texts.toml: [{lang}] needs dir = 'ltr' or 'rtl'")
        _require(table.get("widget", {}), WIDGET_KEYS, f"texts.toml [{lang}.widget]")
        _require(table.get("page", {}), PAGE_KEYS, f"texts.toml [{lang}.page]")
        _require(table.get("open", {}), OPEN_KEYS, f"texts.toml [{lang}.open]")
        _require(
            table.get("close_reasons", {}), CLOSE_REASONS, f"texts.toml [{lang}.close_reasons]"
        )
        stages = table.get("stages", {})
        for stage in STAGES:
            pair = stages.get(stage)
            if not (isinstance(pair, list) and len(pair) == 2 and all(pair)):
                raise CatalogError(f"texts.toml [{lang}.stages]: {stage} needs [label, text]")
    for name, variant in texts.get("variants", {}).items():
        if not isinstance(variant, dict) or variant.get("language") not in languages:
            raise CatalogError(f"texts.toml [variants.{name}]: language must be one of languages")
        _require(variant.get("widget", {}), WIDGET_KEYS, f"texts.toml [variants.{name}.widget]")
    areas: list[Area] = []
    seen: set[str] = set()
    for entry in areas_doc.get("areas", []):
        area_id = entry.get("id")
        labels = entry.get("labels", {})
        if not isinstance(area_id, str) or not area_id.isascii() or not 0 < len(area_id) <= 64:
            raise CatalogError(f"{areas_file}: area id {area_id!r} must be 1-64 ASCII characters")
        if area_id in seen:
            raise CatalogError(f"{areas_file}: area id {area_id!r} is listed twice")
        seen.add(area_id)
        missing = [lang for lang in languages if not labels.get(lang)]
        if missing:
            raise CatalogError(f"{areas_file}: area {area_id!r} has no label in {missing}")
        areas.append(Area(area_id, dict(labels), bool(entry.get("retired", False))))
    if not any(not a.retired for a in areas):
        raise CatalogError(f"{areas_file}: at least one area must be offered")
    return Catalog(default, languages, tuple(areas), texts)


def current_catalog() -> Catalog:
    catalog: Catalog = current_app.extensions["ideas_catalog"]
    return catalog
