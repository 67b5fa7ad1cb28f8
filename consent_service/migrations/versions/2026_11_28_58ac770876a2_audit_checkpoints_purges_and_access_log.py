"""audit checkpoints purges and access log

Revision ID: 58ac770876a2
Revises: 47e36c1098a8
Create Date: 2026-11-28 01:24:51.636595
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "58ac770876a2"
down_revision: str | None = "47e36c1098a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_access_log")),
    )
    with op.batch_alter_table("audit_access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_access_log_at"), ["at"], unique=False)

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_seq"), ["seq"], unique=False)

    op.create_table(
        "audit_purges",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_days", sa.JSON(), nullable=False),
        sa.Column("removed_count", sa.Integer(), nullable=False),
        sa.Column("removed_digest", sa.String(length=64), nullable=False),
        sa.Column("first_removed_seq", sa.Integer(), nullable=True),
        sa.Column("last_removed_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_chain_links.seq"], name=op.f("fk_audit_purges_seq_audit_chain_links")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_purges")),
    )
    with op.batch_alter_table("audit_chain_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_in", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_audit_chain_links_purged_in"), ["purged_in"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_chain_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_chain_links_purged_in"))
        batch_op.drop_column("purged_in")

    op.drop_table("audit_purges")
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_seq"))

    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_access_log_at"))

    op.drop_table("audit_access_log")
