"""`consent-service analytics ...`: export the raw events, roll up the days."""

from __future__ import annotations

import click

analytics_group = click.Group("analytics", help="Consent-gated statistics.")
