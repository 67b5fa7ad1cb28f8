"""The configuration injected into /embed/ideas.js: what the widget needs to render at once.

Only the default language's texts and areas travel in the bundle (the size budget counts
them); a page in another language fetches its texts from GET /api/v1/ideas/form.
"""

from __future__ import annotations

from typing import Any

from consent_service.ideas import services
from consent_service.ideas.catalog import current_catalog


def widget_config(origin: str) -> dict[str, Any]:
    catalog = current_catalog()
    language = catalog.default_language
    return {
        "api": f"{origin}/api/v1/ideas",
        "nojs": f"{origin}/ideas/new",
        "lang": language,
        "langs": list(catalog.languages),
        "limits": services.limits(),
        "form": {
            "texts": catalog.widget_texts(language),
            "areas": catalog.form_areas(language),
            "dir": catalog.direction(language),
        },
    }
