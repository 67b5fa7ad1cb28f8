"""Choosing one of a document's languages for a language tag or a request.

Policies and idea catalogues are per site and hold any number of languages; both pick one
the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import request


def language_for(tag: str | None, languages: Sequence[str], default: str) -> str:
    """Map a tag such as 'sv-SE', 'en_GB' or 'en' to one of `languages`, else `default`."""
    if tag:
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary in languages:
            return primary
    return default


def accepted_language(languages: Sequence[str], default: str) -> str:
    """The request's Accept-Language choice among `languages`, else `default`."""
    return request.accept_languages.best_match(languages) or default
