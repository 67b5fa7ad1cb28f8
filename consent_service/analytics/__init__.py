"""Consent-gated analytics: server-enforced ingest, daily rollups and the dashboard."""
