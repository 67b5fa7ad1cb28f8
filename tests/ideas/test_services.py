"""The idea rules without HTTP: one submission pipeline for the widget's API and the no-JS form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from consent_service.ideas import services
from tests.conftest import make_app


def submission(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Fler bänkar vid Fyrisån",
        "body": "Längs promenadstråket finns för få platser att vila.",
        "area": "trafik",
        "language": "sv",
        "client": "192.0.2.1",
    }
    fields.update(overrides)
    return fields


def test_the_pipeline_runs_without_a_request(app: Flask) -> None:
    with app.app_context():
        first = services.submit_idea(**submission(request_id="pipeline-0001"))
        again = services.submit_idea(**submission(request_id="pipeline-0001"))
        with pytest.raises(services.InvalidIdea) as invalid:
            services.submit_idea(**submission(title="", area="nowhere"))
    assert first.reference.startswith("IDE-") and not first.replayed
    assert again == services.Submitted(first.reference, replayed=True)
    assert invalid.value.errors == {"title": "title_missing", "area": "area_missing"}


def test_the_pipeline_raises_past_the_rate_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RATE_LIMIT=1)
    with app.app_context():
        services.submit_idea(**submission())
        with pytest.raises(services.TooManyIdeas) as refused:
            services.submit_idea(**submission(title="En till"))
        services.submit_idea(**submission(title="Annan adress", client="192.0.2.2"))
    assert refused.value.retry_after > 0 and refused.value.minutes >= 1
