"""idea challenges (utmaningar) and the challenge an idea answers

Revision ID: 8632e0a26892
Revises: 54206f8960a0
Create Date: 2026-12-02 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8632e0a26892"
down_revision: str | None = "54206f8960a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_idea_challenges_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_challenges")),
        sa.UniqueConstraint("site", "slug", name=op.f("uq_idea_challenges_site_slug")),
    )
    with op.batch_alter_table("idea_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_challenges_site"), ["site"], unique=False)
    op.create_table(
        "idea_challenge_texts",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("background", sa.Text(), nullable=False),
        sa.Column("target_group", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["idea_challenges.id"],
            name=op.f("fk_idea_challenge_texts_challenge_id_idea_challenges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "language", name=op.f("pk_idea_challenge_texts")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("challenge_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_ideas_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ideas_challenge_id_idea_challenges"),
            "idea_challenges",
            ["challenge_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ideas_challenge_id_idea_challenges"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_ideas_challenge_id"))
        batch_op.drop_column("challenge_id")
    op.drop_table("idea_challenge_texts")
    with op.batch_alter_table("idea_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_challenges_site"))
    op.drop_table("idea_challenges")
