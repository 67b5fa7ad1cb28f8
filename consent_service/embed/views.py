"""`/embed/*.js`: the built bundle with the current policy injected, cached by ETag."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request

from consent_service.analytics.services import search_params_of
from consent_service.consent import services
from consent_service.consent.cookie import COOKIE_NAME
from consent_service.sites.policy import OPTIONAL_CATEGORIES, Policy
from consent_service.web.origins import own_origin

bp = Blueprint("embed", __name__, url_prefix="/embed")

BUILD_DIR = Path(__file__).resolve().parent.parent / "static" / "embed"
CONFIG_PLACEHOLDER = "__CONSENT_CONFIG__"
# Texts only the no-JavaScript settings page shows; every byte of the banner counts.
PAGE_ONLY_TEXTS = ("page_title", "page_intro", "page_saved_return", "language_switch")
# Texts the banner fetches from GET /api/v1/policy when it needs them: the declarations'
# details (settings layer, declaration table) and the gated embeds' placeholders.
LAZY_TEXTS = (
    "cookies", "cookie_name", "cookie_provider", "cookie_purpose", "cookie_lifetime",
    "no_cookies", "cookies_heading", "embed_notice", "embed_once",
)  # fmt: skip
IDEAS_CONFIG_PLACEHOLDER = "__IDEAS_CONFIG__"


class BundleMissing(RuntimeError):
    """The embed has not been built (`make widget`)."""


@dataclass(frozen=True)
class Bundle:
    body: bytes
    gzipped: bytes
    etag: str


def consent_config(policy: Policy, origin: str) -> dict[str, Any]:
    """What the banner needs without a request: the version, the default language's texts for
    the first layer and the settings switches, and what refusal clears (cookie names and
    storage keys, `*` ending a prefix)."""
    return {
        "api": f"{origin}/api/v1",
        "settings_url": f"{origin}/consent",
        "version": policy.version,
        "default_language": policy.default_language,
        "languages": list(policy.languages),
        "cookie": COOKIE_NAME,
        "cookies": {c: policy.cookie_names(c) for c in OPTIONAL_CATEGORIES},
        "storage": {c: policy.storage_keys(c) for c in OPTIONAL_CATEGORIES},
        # The language switch: each language's name for itself ("På svenska", "In English").
        "switch": {lang: policy.rendered(lang)["language_switch"] for lang in policy.languages},
        "texts": {
            policy.default_language: {
                key: value
                for key, value in policy.rendered(policy.default_language).items()
                if key not in PAGE_ONLY_TEXTS and key not in LAZY_TEXTS
            }
        },
        # Gated embeds' placeholders and the declaration table, loaded only when a page has one.
        "page": f"{origin}/embed/consent-page.js",
        # The tracker keeps only these query parameters of a page's address: those kept in
        # paths and the site search's (the server keeps its value as the search term only).
        "query_params": tracked_query_params(policy.site),
    }


def tracked_query_params(site: str) -> list[str]:
    kept: list[str] = current_app.config["ANALYTICS_QUERY_PARAMS"]
    return [*kept, *(p for p in search_params_of(site) if p not in kept)]


def read_built(name: str) -> str:
    path = BUILD_DIR / name
    if not path.exists():
        raise BundleMissing(f"{path} is missing: build the embeds with `make widget`")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=16)
def _bundle(source: str, config_json: str, placeholder: str = CONFIG_PLACEHOLDER) -> Bundle:
    body = source.replace(placeholder, config_json, 1).encode()
    return Bundle(body, gzip.compress(body, 9), '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def consent_bundle(policy: Policy, origin: str) -> Bundle:
    # "</" cannot close anything in an external script, but keep the JSON inert anyway.
    config_json = json.dumps(consent_config(policy, origin), ensure_ascii=False).replace(
        "</", "<\\/"
    )
    return _bundle(read_built("consent.js"), config_json)


def serve_bundle(bundle: Bundle) -> Response:
    if request.if_none_match.contains(bundle.etag.strip('"')):
        response = Response(status=304)
    elif request.accept_encodings.best_match(["gzip"]) == "gzip":
        response = Response(bundle.gzipped, mimetype="text/javascript")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(bundle.body, mimetype="text/javascript")
    response.headers["ETag"] = bundle.etag
    response.headers["Cache-Control"] = "public, max-age=3600, stale-while-revalidate=86400"
    response.vary.add("Accept-Encoding")
    return response


@bp.get("/consent.js")
def consent_js() -> Response:
    policy = services.current_policy()
    return serve_bundle(consent_bundle(policy, own_origin()))


@bp.get("/consent-page.js")
def consent_page_js() -> Response:
    """The banner's parts for page content (gated embeds, the declaration table): no config,
    the texts come from GET /api/v1/policy."""
    return serve_bundle(_bundle(read_built("consent-page.js"), ""))


def ideas_bundle(origin: str) -> Bundle:
    from consent_service.ideas.widget import widget_config

    config_json = json.dumps(widget_config(origin), ensure_ascii=False).replace("</", "<\\/")
    return _bundle(read_built("ideas.js"), config_json, IDEAS_CONFIG_PLACEHOLDER)


@bp.get("/ideas.js")
def ideas_js() -> Response:
    return serve_bundle(ideas_bundle(own_origin()))
