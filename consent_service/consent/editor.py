"""The policy editor's rules: a draft's texts and declarations as form fields, and the
difference between two versions. Saving goes through `sites.store` (which validates)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from consent_service.sites.policy import CATEGORIES, REQUIRED_TEXT_KEYS

# What each text is, for the editor (Swedish: the staff pages' language).
TEXT_LABELS = {
    "title": "Rubrik",
    "intro": "Inledning (ett stycke per tom rad)",
    "accept_all": "Knapp: acceptera alla",
    "necessary_only": "Knapp: endast nödvändiga",
    "settings": "Knapp: inställningar",
    "settings_title": "Rubrik för inställningar",
    "settings_intro": "Inledning till inställningar",
    "save": "Knapp: spara val",
    "close": "Knapp: stäng",
    "back": "Knapp: tillbaka",
    "withdraw": "Knapp: återkalla",
    "always_on": "Märkning: alltid på",
    "consent_id": "Rubrik: samtyckes-id",
    "no_choice": "Inget val ännu",
    "saved": "Valet sparat",
    "withdrawn": "Samtycket återkallat",
    "pending": "Servern kunde inte nås",
    "gpc": "Global Privacy Control",
    "cookies_heading": "Rubrik: kakor i kategorin",
    "cookie_name": "Kolumn: namn",
    "cookie_provider": "Kolumn: leverantör",
    "cookie_purpose": "Kolumn: syfte",
    "cookie_lifetime": "Kolumn: livslängd",
    "no_cookies": "Inga kakor i kategorin",
    "page_title": "Sidan utan JavaScript: rubrik",
    "page_intro": "Sidan utan JavaScript: inledning",
    "page_saved_return": "Länk tillbaka efter sparat val",
    "language_switch": "Språkväxlaren (på språket självt)",
    "embed_notice": "Inbäddat innehåll: text ({provider} blir leverantörens namn)",
    "embed_once": "Inbäddat innehåll: visa den här gången",
}
CATEGORY_FIELDS = (("label", "Namn"), ("description", "Beskrivning"), ("allow", "Knapp: tillåt"))
LONG_TEXTS = frozenset({"intro", "settings_intro", "page_intro", "gpc", "pending", "embed_notice"})
MAX_FIELD = 2000
MAX_DECLARATIONS = 200


class EditError(ValueError):
    """A form field cannot go into the draft; the message says which and why."""


@dataclass(frozen=True)
class TextField:
    name: str  # the form field's name
    label: str
    value: str
    long: bool


def text_fields(document: Mapping[str, Any], language: str) -> list[TextField]:
    texts = document.get("texts", {}).get(language, {})
    fields = []
    for key in REQUIRED_TEXT_KEYS:
        if key == "dir":
            continue
        value = texts.get(key, "")
        if isinstance(value, list):
            value = "\n\n".join(str(v) for v in value)
        fields.append(
            TextField(
                f"text.{language}.{key}", TEXT_LABELS.get(key, key), str(value), key in LONG_TEXTS
            )
        )
    for category in CATEGORIES:
        entry = texts.get("categories", {}).get(category, {})
        for part, label in CATEGORY_FIELDS:
            if part == "allow" and category == "necessary":
                continue
            fields.append(
                TextField(
                    f"cat.{language}.{category}.{part}",
                    f"{category}: {label}",
                    str(entry.get(part, "")),
                    part == "description",
                )
            )
    return fields


def _clean(value: str, name: str) -> str:
    value = value.replace("\r\n", "\n").strip()
    if len(value) > MAX_FIELD:
        raise EditError(f"{name}: högst {MAX_FIELD} tecken")
    if any(not c.isprintable() and c not in "\n\t" for c in value):
        raise EditError(f"{name}: innehåller tecken som inte kan visas")
    return value


def apply_texts(document: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The document with the texts from the form (fields absent from the form unchanged)."""
    updated = copy.deepcopy(dict(document))
    for language in updated.get("languages", []):
        texts = updated.setdefault("texts", {}).setdefault(language, {})
        for field in text_fields(updated, language):
            if field.name not in form:
                continue
            value = _clean(form[field.name], field.label)
            if not value:
                raise EditError(f"{language}: {field.label} får inte vara tom")
            parts = field.name.split(".")
            if parts[0] == "text":
                key = parts[2]
                texts[key] = (
                    [p.strip() for p in value.split("\n\n") if p.strip()]
                    if (key == "intro")
                    else value
                )
            else:
                category, part = parts[2], parts[3]
                texts.setdefault("categories", {}).setdefault(category, {})[part] = value
    return updated


def add_declaration(document: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The document with one more cookie (or storage) declaration from the form."""
    updated = copy.deepcopy(dict(document))
    cookies = updated.setdefault("cookies", [])
    if len(cookies) >= MAX_DECLARATIONS:
        raise EditError(f"högst {MAX_DECLARATIONS} deklarationer")
    name = form.get("name", "").strip()
    replacing = form.get("replace", "")
    if replacing:
        # Changing a declaration: it keeps its place in the list.
        at = next((i for i, c in enumerate(cookies) if c.get("name") == replacing), None)
        if at is None:
            raise EditError(f"{replacing} finns inte bland deklarationerna")
        cookies.pop(at)
    else:
        at = len(cookies)
    if any(c.get("name") == name for c in cookies):
        raise EditError(f"{name} är redan deklarerad")
    cookie: dict[str, Any] = {
        "name": name,
        "category": form.get("category", ""),
        "provider": _clean(form.get("provider", ""), "Leverantör") or "—",
        "purpose": {},
        "lifetime": {},
    }
    for language in updated.get("languages", []):
        for key, label in (("purpose", "Syfte"), ("lifetime", "Livslängd")):
            value = _clean(form.get(f"{key}.{language}", ""), f"{label} ({language})")
            if not value:
                raise EditError(f"{label} ({language}) behövs")
            cookie[key][language] = value
    for key in ("storage", "hosts"):
        values = form.get(key, "").split()
        if values:
            cookie[key] = values
    if form.get("party") in ("first", "third"):
        cookie["party"] = form["party"]
    cookies.insert(at, cookie)
    return updated


def declaration_form(document: Mapping[str, Any], name: str | None) -> dict[str, str]:
    """The declaration form's values: empty, or those of the declaration `name` to change."""
    cookie = next((c for c in document.get("cookies", []) if c.get("name") == name), None)
    if cookie is None:
        return {}
    values = {
        "replace": str(cookie["name"]),
        "name": str(cookie["name"]),
        "category": str(cookie.get("category", "")),
        "provider": str(cookie.get("provider", "")),
        "party": str(cookie.get("party", "first")),
        "storage": " ".join(cookie.get("storage", [])),
        "hosts": " ".join(cookie.get("hosts", [])),
    }
    for key in ("purpose", "lifetime"):
        for language, text in (cookie.get(key) or {}).items():
            values[f"{key}.{language}"] = str(text)
    return values


def remove_declaration(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    updated = copy.deepcopy(dict(document))
    before = updated.get("cookies", [])
    updated["cookies"] = [c for c in before if c.get("name") != name]
    if len(updated["cookies"]) == len(before):
        raise EditError(f"{name} finns inte bland deklarationerna")
    return updated


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "texts.sv.title" or "cookies[_pk_id.*].purpose.sv"
    before: str | None
    after: str | None


def _flatten(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for item in value:
            yield from _flatten(item, f"{path}[{item.get('name', '?')}]")
    elif isinstance(value, list):
        yield path, "\n\n".join(str(v) for v in value)
    else:
        yield path, str(value)


def diff(published: Mapping[str, Any], draft: Mapping[str, Any]) -> list[Change]:
    """What the draft changes in the published version (`version` and `site` left out)."""
    ignored = {"version", "site"}
    old = dict(_flatten({k: v for k, v in published.items() if k not in ignored}, ""))
    new = dict(_flatten({k: v for k, v in draft.items() if k not in ignored}, ""))
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]
