"""ideas: team mail settings, digests sent, the citizens' mail outbox, purge records

Revision ID: c2d9e6a1f370
Revises: 6d2f8a4c1e93
Create Date: 2026-12-02 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c2d9e6a1f370"
down_revision: str | None = "6d2f8a4c1e93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_team_mail",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("mention", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("digest_after_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idea_team_mail_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_idea_team_mail")),
    )  # fmt: skip
    op.create_table(
        "idea_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idea_count", sa.Integer(), nullable=False),
        sa.Column("first_idea_id", sa.Integer(), nullable=True),
        sa.Column("last_idea_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idea_digests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_digests")),
        sa.UniqueConstraint("user_id", "period", name=op.f("uq_idea_digests_user_id_period")),
    )  # fmt: skip
    with op.batch_alter_table("idea_digests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_digests_user_id"), ["user_id"], unique=False)
    op.create_table(
        "idea_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_outbox_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_outbox")),
    )  # fmt: skip
    with op.batch_alter_table("idea_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_outbox_idea_id"), ["idea_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_idea_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    op.create_table(
        "idea_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_purges")),
    )
    with op.batch_alter_table("idea_purges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_purges_purged_at"), ["purged_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idea_purges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_purges_purged_at"))
    op.drop_table("idea_purges")
    with op.batch_alter_table("idea_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_outbox_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_idea_outbox_idea_id"))
    op.drop_table("idea_outbox")
    with op.batch_alter_table("idea_digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_digests_user_id"))
    op.drop_table("idea_digests")
    op.drop_table("idea_team_mail")
