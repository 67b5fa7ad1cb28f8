"""analytics visits: campaign fields of events, daily visit figures, read tokens

Revision ID: b7d3f19a6c25
Revises: 54b7cf53c0c7
Create Date: 2026-12-02 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d3f19a6c25"
down_revision: str | None = "54b7cf53c0c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def upgrade() -> None:
    # Nullable columns without a default: adding them rewrites nothing on PostgreSQL.
    with op.batch_alter_table("analytics_events") as batch:
        for name in UTM_FIELDS:
            batch.add_column(sa.Column(name, sa.String(length=128), nullable=True))
    op.create_table(
        "analytics_daily_visits",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("property", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("pageviews", sa.Integer(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "site", "property", "day", "value", name=op.f("pk_analytics_daily_visits")
        ),
    )
    op.create_table(
        "analytics_read_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_read_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_analytics_read_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("analytics_read_tokens")
    op.drop_table("analytics_daily_visits")
    with op.batch_alter_table("analytics_events") as batch:
        for name in reversed(UTM_FIELDS):
            batch.drop_column(name)
