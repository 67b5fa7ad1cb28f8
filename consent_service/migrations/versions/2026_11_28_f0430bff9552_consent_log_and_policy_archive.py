"""consent log and policy archive

Revision ID: f0430bff9552
Revises:
Create Date: 2026-11-28 01:14:50.286973
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f0430bff9552"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    head = op.create_table(
        "audit_chain_head",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_head")),
    )
    # The chain starts at the genesis hash; writers lock this row before appending.
    op.bulk_insert(head, [{"chain": "consent", "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "audit_chain_links",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain_links")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_chain_links_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_chain_links_prev_hash")),
    )
    op.create_table(
        "policy_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_texts")),
        sa.UniqueConstraint(
            "site", "version", "language", name=op.f("uq_policy_texts_site_version_language")
        ),
    )
    with op.batch_alter_table("policy_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_texts_site"), ["site"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_texts_text_hash"), ["text_hash"], unique=False)

    op.create_table(
        "consent_log_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
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
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_chain_links.seq"],
            name=op.f("fk_consent_log_entries_seq_audit_chain_links"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_log_entries")),
        sa.UniqueConstraint(
            "site", "request_id", name=op.f("uq_consent_log_entries_site_request_id")
        ),
    )
    with op.batch_alter_table("consent_log_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_log_entries_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_log_entries_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consent_log_entries_site"), ["site"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consent_log_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_log_entries_site"))
        batch_op.drop_index(batch_op.f("ix_consent_log_entries_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_consent_log_entries_consent_id"))

    op.drop_table("consent_log_entries")
    with op.batch_alter_table("policy_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_texts_text_hash"))
        batch_op.drop_index(batch_op.f("ix_policy_texts_site"))

    op.drop_table("policy_texts")
    op.drop_table("audit_chain_links")
    op.drop_table("audit_chain_head")
