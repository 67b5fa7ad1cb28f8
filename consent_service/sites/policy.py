"""The cookie policy file: versioned texts per language and cookie declarations."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from consent_service.hashing import canonical_json, sha256_hex
from consent_service.web.languages import language_for

CATEGORIES = ("necessary", "functional", "statistics")
OPTIONAL_CATEGORIES = ("functional", "statistics")
REQUIRED_TEXT_KEYS = (
    "dir", "title", "intro", "accept_all", "necessary_only", "settings", "settings_title",
    "settings_intro", "save", "close", "back", "withdraw", "always_on", "consent_id",
    "no_choice", "saved", "withdrawn", "pending", "gpc", "cookies_heading", "cookie_name",
    "cookie_provider", "cookie_purpose", "cookie_lifetime", "no_cookies", "page_title",
    "page_intro", "page_saved_return", "language_switch", "embed_notice", "embed_once",
)  # fmt: skip

# A cookie's name (an RFC 6265 token), or a prefix of names when it ends in `*`, such as
# `_pk_id.*` for Matomo's `_pk_id.<site id>.<domain hash>`. Used with fullmatch.
COOKIE_DECLARATION = re.compile(r"[!#$%&'+.^_`|~0-9A-Za-z-]+\*?")
# A localStorage/sessionStorage key a declaration names, or a prefix of keys ending in `*`.
STORAGE_DECLARATION = re.compile(r"[^\s*]{1,200}\*?")
# A host whose embeds (iframes, images) belong to a declaration's provider: it and its
# subdomains. Used with fullmatch.
HOST_DECLARATION = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class PolicyError(ValueError):
    """The policy file is malformed."""


@dataclass(frozen=True, eq=False)
class Policy:
    site: str
    version: int
    default_language: str
    languages: tuple[str, ...]
    texts: dict[str, dict[str, Any]] = field(repr=False)
    cookies: tuple[dict[str, Any], ...] = field(repr=False)
    # The document as its TOML file holds it (for export, drafts and their diff).
    document: dict[str, Any] = field(repr=False, default_factory=dict)

    def rendered(self, language: str) -> dict[str, Any]:
        """Everything a citizen is shown in one language: the object whose hash is logged."""
        return self.texts[language]

    def text_hash(self, language: str) -> str:
        return self._text_hashes[language]

    @cached_property
    def _text_hashes(self) -> dict[str, str]:
        # Computed once: every recorded decision refers to one of these.
        return {lang: sha256_hex(canonical_json(self.texts[lang])) for lang in self.languages}

    def language_for(self, tag: str | None) -> str:
        """Map a language tag such as 'sv-SE' or 'en' to a policy language."""
        return language_for(tag, self.languages, self.default_language)

    def cookie_names(self, category: str) -> list[str]:
        """The category's declarations as written: names, and prefixes ending in `*`."""
        return [c["name"] for c in self.cookies if c["category"] == category]

    def storage_keys(self, category: str) -> list[str]:
        """The storage keys (and prefixes ending in `*`) the category's declarations name."""
        return [k for c in self.cookies if c["category"] == category for k in c.get("storage", ())]

    def category_of(self, cookie_name: str) -> str | None:
        """The category that declares this cookie: its exact name, else the longest prefix."""
        return self._exact_names.get(cookie_name) or next(
            (cat for prefix, cat in self._prefixes if cookie_name.startswith(prefix)), None
        )

    def refused_cookies(self, present: Iterable[str], choices: Mapping[str, bool]) -> list[str]:
        """Of the cookie names `present`, those declared in an optional category not chosen."""
        refused = {c for c in OPTIONAL_CATEGORIES if not choices.get(c)}
        return sorted(name for name in present if self.category_of(name) in refused)

    @cached_property
    def _exact_names(self) -> dict[str, str]:
        return {c["name"]: c["category"] for c in self.cookies if not c["name"].endswith("*")}

    @cached_property
    def _prefixes(self) -> list[tuple[str, str]]:
        prefixes = [
            (c["name"][:-1], c["category"]) for c in self.cookies if c["name"].endswith("*")
        ]
        return sorted(prefixes, key=lambda p: -len(p[0]))

    def public(self) -> dict[str, Any]:
        """The document served at GET /api/v1/policy."""
        return {
            "site": self.site,
            "version": self.version,
            "default_language": self.default_language,
            "languages": list(self.languages),
            "categories": [
                {"id": c, "required": c == "necessary", "default": c == "necessary"}
                for c in CATEGORIES
            ],
            "texts": {lang: self.rendered(lang) for lang in self.languages},
            "text_hashes": {lang: self.text_hash(lang) for lang in self.languages},
            "cookies": [{"name": c["name"], "category": c["category"]} for c in self.cookies],
        }


def _render(raw: dict[str, Any], language: str) -> dict[str, Any]:
    texts = raw.get("texts", {}).get(language)
    if not isinstance(texts, dict):
        raise PolicyError(f"texts.{language} is missing")
    missing = [k for k in REQUIRED_TEXT_KEYS if k not in texts]
    if missing:
        raise PolicyError(f"texts.{language} lacks {', '.join(missing)}")
    if texts["dir"] not in ("ltr", "rtl"):
        raise PolicyError(f"texts.{language}.dir must be ltr or rtl")
    categories = texts.get("categories", {})
    for category in CATEGORIES:
        entry = categories.get(category)
        if not isinstance(entry, dict) or not {"label", "description"} <= entry.keys():
            raise PolicyError(f"texts.{language}.categories.{category} needs label and description")
    rendered = dict(texts)
    rendered["intro"] = (
        list(texts["intro"]) if isinstance(texts["intro"], list) else [texts["intro"]]
    )
    rendered["cookies"] = [
        {
            "name": cookie["name"],
            "category": cookie["category"],
            "provider": cookie["provider"],
            "purpose": cookie["purpose"][language],
            "lifetime": cookie["lifetime"][language],
            # Only when declared, so that the texts of earlier versions keep their hashes.
            **{k: list(cookie[k]) for k in ("storage", "hosts") if k in cookie},
        }
        for cookie in raw.get("cookies", [])
    ]
    return rendered


def parse_policy(raw: dict[str, Any]) -> Policy:
    try:
        version = raw["version"]
        languages = tuple(raw["languages"])
        default_language = raw["default_language"]
        site = raw["site"]
    except KeyError as exc:
        raise PolicyError(f"policy lacks {exc.args[0]}") from exc
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PolicyError("version must be a positive integer")
    if default_language not in languages:
        raise PolicyError("default_language must be one of languages")
    if tuple(raw.get("categories", CATEGORIES)) != CATEGORIES:
        raise PolicyError(f"categories must be {', '.join(CATEGORIES)}")
    for cookie in raw.get("cookies", []):
        name = cookie.get("name")
        if not isinstance(name, str) or not COOKIE_DECLARATION.fullmatch(name):
            raise PolicyError(
                f"cookie {name!r} is not a cookie name, or a prefix ending in one `*`"
            )
        if cookie.get("category") not in CATEGORIES:
            raise PolicyError(f"cookie {cookie.get('name')!r} has an unknown category")
        for key in ("purpose", "lifetime"):
            if not all(lang in cookie.get(key, {}) for lang in languages):
                raise PolicyError(f"cookie {cookie.get('name')!r} lacks {key} in every language")
        for key, pattern, what in (
            ("storage", STORAGE_DECLARATION, "storage keys, or prefixes ending in one `*`"),
            ("hosts", HOST_DECLARATION, "host names in lower case"),
        ):
            values = cookie.get(key, [])
            if not isinstance(values, list) or not all(
                isinstance(v, str) and pattern.fullmatch(v) for v in values
            ):
                raise PolicyError(f"cookie {name!r}: {key} must be a list of {what}")
    texts = {lang: _render(raw, lang) for lang in languages}
    return Policy(
        site=str(site),
        version=version,
        default_language=default_language,
        languages=languages,
        texts=texts,
        cookies=tuple(raw.get("cookies", [])),
        document=copy.deepcopy(raw),
    )


def load_policy(path: str | Path) -> Policy:
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: {exc}") from exc
    return parse_policy(raw)
