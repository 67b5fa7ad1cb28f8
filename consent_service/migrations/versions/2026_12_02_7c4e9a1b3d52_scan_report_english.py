"""scan jobs keep their printable report in English beside the Swedish one

Revision ID: 7c4e9a1b3d52
Revises: f1c7d2b9e4a6
Create Date: 2026-12-02 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c4e9a1b3d52"
down_revision: str | None = "f1c7d2b9e4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_html_en", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.drop_column("report_html_en")
