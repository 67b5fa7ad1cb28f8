"""analytics: chart annotations, shared dashboard links, e-mailed report subscriptions

Revision ID: f1c7d2b9e4a6
Revises: d81f4e2a9c37
Create Date: 2026-12-02 10:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1c7d2b9e4a6"
down_revision: str | None = "d81f4e2a9c37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_annotations")),
    )
    op.create_index("ix_analytics_annotations_site_day", "analytics_annotations", ["site", "day"])
    op.create_table(
        "analytics_share_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_analytics_share_links_token_hash")),
    )
    op.create_table(
        "analytics_report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_analytics_report_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_report_subscriptions")),
        sa.UniqueConstraint(
            "site",
            "user_id",
            "frequency",
            name=op.f("uq_analytics_report_subscriptions_site_user_id_frequency"),
        ),
    )
    op.create_table(
        "analytics_sent_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_sent_reports")),
        sa.UniqueConstraint(
            "site",
            "email",
            "frequency",
            "period_start",
            name=op.f("uq_analytics_sent_reports_site_email_frequency_period_start"),
        ),
    )


def downgrade() -> None:
    op.drop_table("analytics_sent_reports")
    op.drop_table("analytics_report_subscriptions")
    op.drop_table("analytics_share_links")
    op.drop_index("ix_analytics_annotations_site_day", table_name="analytics_annotations")
    op.drop_table("analytics_annotations")
