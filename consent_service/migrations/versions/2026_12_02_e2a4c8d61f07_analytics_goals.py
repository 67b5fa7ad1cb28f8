"""analytics goals: conversions editors follow per site

Revision ID: e2a4c8d61f07
Revises: b7d3f19a6c25
Create Date: 2026-12-02 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2a4c8d61f07"
down_revision: str | None = "b7d3f19a6c25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_goals")),
        sa.UniqueConstraint(
            "site", "kind", "value", name=op.f("uq_analytics_goals_site_kind_value")
        ),
    )


def downgrade() -> None:
    op.drop_table("analytics_goals")
