"""idea search: Swedish word stems of each idea for SQLite

Revision ID: 54b7cf53c0c7
Revises: 8632e0a26892
Create Date: 2026-12-02 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "54b7cf53c0c7"
down_revision: str | None = "8632e0a26892"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled in for existing ideas by the ideas domain's after-upgrade hook (search.py), so
    # that this file does not depend on the stemmer's code.
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_stems", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_column("search_stems")
