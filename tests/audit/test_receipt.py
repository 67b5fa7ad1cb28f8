"""The citizen's consent receipt: their own entries, read from their signed cookie."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import HOST_ORIGIN, choice_body


def test_receipt_lists_the_citizens_own_entries(app: Flask, client: FlaskClient) -> None:
    other = app.test_client()
    other.post("/api/v1/consent", json=choice_body())
    first = client.post("/api/v1/consent", json=choice_body(statistics=True)).get_json()
    client.post("/api/v1/consent", json=choice_body(functional=False))
    response = client.get("/api/v1/consent/receipt", headers={"Origin": HOST_ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["consent_id"] == first["consent_id"]
    assert [e["action"] for e in body["entries"]] == ["grant", "update"]
    assert [e["leaf_index"] for e in body["entries"]] == [1, 2]
    grant = body["entries"][0]
    assert grant["choices"] == {"functional": True, "statistics": True}
    assert len(grant["text_hash"]) == 64 and len(grant["hash"]) == 64
    assert grant["inclusion_proof"] and grant["leaf"]
    # The signed tree head the proofs lead to (tests/audit/test_transparency.py checks them).
    assert body["checkpoint"].split("\n")[1] == "3"


def test_receipt_without_a_valid_cookie_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/consent/receipt")
    assert response.status_code == 404 and response.get_json()["error"] == "no_consent"
    client.set_cookie("consent", "forged.value.sig")
    assert client.get("/api/v1/consent/receipt").status_code == 404


def test_receipt_is_described_in_openapi(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/consent/receipt"]["get"]
    assert set(operation["responses"]) == {"200", "404"}
    assert "Receipt" in document["components"]["schemas"]
