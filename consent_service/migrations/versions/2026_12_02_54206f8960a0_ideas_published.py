"""ideas published on the open idea page

Revision ID: 54206f8960a0
Revises: 4a368f661f4c
Create Date: 2026-12-02 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "54206f8960a0"
down_revision: str | None = "4a368f661f4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing ideas stay unpublished: publishing is the team's decision, idea by idea.
    with op.batch_alter_table("ideas") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ideas") as batch:
        batch.drop_column("published_at")
        batch.drop_column("published")
