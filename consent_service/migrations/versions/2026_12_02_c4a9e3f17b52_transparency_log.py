"""transparency log: pending entries, Merkle tree nodes, signed checkpoints

Revision ID: c4a9e3f17b52
Revises: 5b1e7c9d2a40
Create Date: 2026-12-02 07:10:00.000000

The tree over the existing chain is built by the upgrade hook (`build_tree`) that runs
after the migrations, from the application's own leaf definition.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a9e3f17b52"
down_revision: str | None = "5b1e7c9d2a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("functional", sa.Boolean(), nullable=False),
        sa.Column("statistics", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("promise", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending_entries")),
        sa.UniqueConstraint(
            "site", "request_id", name=op.f("uq_audit_pending_entries_site_request_id")
        ),
    )
    with op.batch_alter_table("audit_pending_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_pending_entries_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_pending_entries_site"), ["site"], unique=False)

    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_nodes")),
    )

    op.create_table(
        "audit_log_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_checkpoints")),
    )
    with op.batch_alter_table("audit_log_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_checkpoints_tree_size"), ["tree_size"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_checkpoints_tree_size"))
    op.drop_table("audit_log_checkpoints")
    op.drop_table("audit_tree_nodes")
    with op.batch_alter_table("audit_pending_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_pending_entries_site"))
        batch_op.drop_index(batch_op.f("ix_audit_pending_entries_consent_id"))
    op.drop_table("audit_pending_entries")
