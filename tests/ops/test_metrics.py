"""/metrics: request and business counters, the chain head, the token, several processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from consent_service import metrics
from tests.conftest import choice_body, make_app

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def test_requests_are_counted_by_route_pattern_and_status(client: FlaskClient) -> None:
    before = scrape(client)
    client.get("/api/v1/policy")
    client.get("/api/v1/consent")  # 404: no cookie
    client.get("/no/such/page/12345")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = {"route": "/api/v1/consent", "method": "GET"}
    assert delta("consent_http_requests_total", status="200", route="/api/v1/policy") == 1
    assert delta("consent_http_requests_total", status="404", **route) == 1
    # Unknown paths share one series: a scanner cannot blow up the number of series.
    assert delta("consent_http_requests_total", route="unmatched", status="404") == 1
    assert "/no/such/page" not in after
    assert delta("consent_http_request_duration_seconds_count", **route) == 1
    assert delta("consent_http_request_duration_seconds_bucket", le="+Inf", **route) == 1


def test_decisions_are_counted_by_action_and_retries_are_not(client: FlaskClient) -> None:
    before = scrape(client)
    client.post("/api/v1/consent", json=choice_body(request_id="retry-key-0001"))
    client.post("/api/v1/consent", json=choice_body(request_id="retry-key-0001"))
    client.post("/api/v1/consent", json=choice_body(functional=False))
    client.delete("/api/v1/consent")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("consent_decisions_total", action="grant") == 1
    assert delta("consent_decisions_total", action="update") == 1
    assert delta("consent_decisions_total", action="withdraw") == 1
    assert delta("consent_decision_replays_total") == 1
    assert sample(after, "consent_chain_head_seq") == 3
    assert sample(after, "consent_database_up") == 1


def test_other_domains_count_with_one_call(client: FlaskClient) -> None:
    before = sample(scrape(client), "consent_analytics_events_dropped_total", reason="no_consent")
    metrics.count("events_dropped", 3, reason="no_consent")
    after = sample(scrape(client), "consent_analytics_events_dropped_total", reason="no_consent")
    assert after - before == 3
    with pytest.raises(ValueError, match="labels"):
        metrics.count("events_dropped", 1)
    with pytest.raises(KeyError):
        metrics.count("no_such_counter")


def test_a_scrape_survives_an_unreachable_database(tmp_path: Path) -> None:
    app = make_app(tmp_path, migrate=False, DATABASE_URL=f"sqlite:///{tmp_path}/no/dir/x.db")
    text = scrape(app.test_client())
    assert sample(text, "consent_database_up") == 0
    assert "consent_chain_head_seq" not in text
    assert "consent_http_requests_total" in text


def test_production_needs_the_token(tmp_path: Path) -> None:
    hidden = make_app(tmp_path, CONSENT_MODE="production", METRICS_TOKEN=None)
    assert hidden.test_client().get("/metrics").status_code == 404
    guarded = make_app(tmp_path, CONSENT_MODE="production", METRICS_TOKEN=TOKEN)
    client = guarded.test_client()
    refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and b"consent_http_requests_total" in ok.data


WORKER = """
import sys
from consent_service import metrics
metrics.count("decisions", int(sys.argv[1]), action="grant")
metrics.HTTP_LATENCY.labels(route="/x", method="GET").observe(float(sys.argv[2]))
"""


def _worker(directory: Path, decisions: int, latency: float) -> int:
    """Run a short-lived process that counts, as a gunicorn worker would; return its pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(decisions), str(latency)],
        env={**os.environ, metrics.MULTIPROCESS_ENV: str(directory)},
    )
    assert process.wait(timeout=60) == 0
    return process.pid


def test_worker_processes_add_up_and_dead_ones_are_folded_into_an_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: Flask
) -> None:
    directory = tmp_path / "metrics"
    metrics.clear_directory(str(directory))
    first = _worker(directory, 2, 0.003)
    second = _worker(directory, 5, 0.3)
    monkeypatch.setenv(metrics.MULTIPROCESS_ENV, str(directory))

    def totals() -> tuple[float, float, float]:
        text = metrics.exposition(app).decode()
        labels = {"route": "/x", "method": "GET"}
        return (
            sample(text, "consent_decisions_total", action="grant"),
            sample(text, "consent_http_request_duration_seconds_count", **labels),
            sample(text, "consent_http_request_duration_seconds_bucket", le="0.005", **labels),
        )

    assert totals() == (7, 2, 1)
    metrics.fold_dead_worker(str(directory), first)
    metrics.fold_dead_worker(str(directory), second)
    # Recycled workers leave only the archive behind, and nothing is lost or counted twice.
    assert sorted(p.name for p in directory.glob("*.db")) == [
        "counter_archive.db",
        "histogram_archive.db",
    ]
    assert totals() == (7, 2, 1)
    third = _worker(directory, 1, 0.001)
    metrics.fold_dead_worker(str(directory), third)
    assert totals() == (8, 3, 2)


def test_events_and_ideas_are_counted_where_they_happen(client: FlaskClient) -> None:
    from tests.ideas.conftest import idea_body

    def dropped(text: str) -> float:
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "consent_analytics_events_dropped_total"
        )

    before = scrape(client)
    # No consent cookie: the server stores nothing and counts why.
    client.post(
        "/api/v1/events",
        json={"events": [{"type": "pageview", "path": "/a"}, {"type": "pageview", "path": "/b"}]},
        headers={"Origin": "https://www.uppsala.test"},
    )
    response = client.post("/api/v1/ideas", json=idea_body(client))
    assert response.status_code == 201, response.get_data(as_text=True)
    after = scrape(client)
    assert dropped(after) - dropped(before) == 2
    assert (
        sample(after, "consent_ideas_received_total")
        - sample(before, "consent_ideas_received_total")
        == 1
    )
