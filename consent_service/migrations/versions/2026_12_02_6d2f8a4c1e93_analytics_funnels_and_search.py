"""analytics funnels per site, and the site search's term of a page view

Revision ID: 6d2f8a4c1e93
Revises: d81c5e2f4a93
Create Date: 2026-12-02 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2f8a4c1e93"
down_revision: str | None = "d81c5e2f4a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_funnels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("steps", sa.String(length=2400), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_funnels")),
        sa.UniqueConstraint("site", "name", name=op.f("uq_analytics_funnels_site_name")),
    )
    op.create_table(
        "analytics_funnel_seeds",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_analytics_funnel_seeds")),
    )
    # Nullable, no default: adding it rewrites nothing on PostgreSQL or SQLite.
    with op.batch_alter_table("analytics_events") as batch:
        batch.add_column(sa.Column("search_term", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analytics_events") as batch:
        batch.drop_column("search_term")
    op.drop_table("analytics_funnel_seeds")
    op.drop_table("analytics_funnels")
