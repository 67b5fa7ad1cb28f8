"""consent-gated analytics

Revision ID: aa46604e1d85
Revises: 58ac770876a2
Create Date: 2026-11-28 01:37:24.872405
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "aa46604e1d85"
down_revision: str | None = "58ac770876a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "site", "dimension", "path", "day", "value", name=op.f("pk_analytics_daily")
        ),
    )
    op.create_table(
        "analytics_dropped",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", "day", "reason", name=op.f("pk_analytics_dropped")),
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("referrer_host", sa.String(length=253), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("props", sa.String(length=1024), nullable=True),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("screen", sa.String(length=8), nullable=False),
        sa.Column("browser", sa.String(length=24), nullable=False),
        sa.Column("os", sa.String(length=24), nullable=False),
        sa.Column("device", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_events_day_site", ["day", "site"], unique=False)

    op.create_table(
        "analytics_rollup_days",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("rolled_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("site", "day", name=op.f("pk_analytics_rollup_days")),
    )
    op.create_table(
        "analytics_visitor_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_analytics_visitor_keys")),
    )


def downgrade() -> None:
    op.drop_table("analytics_visitor_keys")
    op.drop_table("analytics_rollup_days")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_events_day_site")

    op.drop_table("analytics_events")
    op.drop_table("analytics_dropped")
    op.drop_table("analytics_daily")
