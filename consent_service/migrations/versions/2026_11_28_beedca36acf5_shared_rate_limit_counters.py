"""shared rate-limit counters

Revision ID: beedca36acf5
Revises: 3cd116a5b9ac
Create Date: 2026-11-28 01:20:15.475084
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "beedca36acf5"
down_revision: str | None = "3cd116a5b9ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_end", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_counters")),
    )
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_counters_window_end"), ["window_end"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counters_window_end"))

    op.drop_table("rate_counters")
