"""sites as data: sites, each site's policy versions (drafts too), staff scoped to sites

Revision ID: 9e3b5a71c2d8
Revises: e2a4c8d61f07
Create Date: 2026-12-02 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e3b5a71c2d8"
down_revision: str | None = "e2a4c8d61f07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("cookie_domain", sa.String(length=255), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_sites")),
    )
    op.create_table(
        "site_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_policies")),
        sa.UniqueConstraint("site", "version", name=op.f("uq_site_policies_site_version")),
    )
    op.create_index(op.f("ix_site_policies_site"), "site_policies", ["site"])
    op.create_index(op.f("ix_site_policies_status"), "site_policies", ["status"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sites", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sites")
    op.drop_index(op.f("ix_site_policies_status"), table_name="site_policies")
    op.drop_index(op.f("ix_site_policies_site"), table_name="site_policies")
    op.drop_table("site_policies")
    op.drop_table("sites")
