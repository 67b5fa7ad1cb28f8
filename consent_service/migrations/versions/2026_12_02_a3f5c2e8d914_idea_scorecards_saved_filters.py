"""idea scorecards (criteria per challenge, assessments with their revisions) and saved filters

Revision ID: a3f5c2e8d914
Revises: c2d9e6a1f370
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3f5c2e8d914"
down_revision: str | None = "c2d9e6a1f370"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label_sv", sa.String(length=80), nullable=False),
        sa.Column("label_en", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["idea_challenges.id"],
            name=op.f("fk_idea_criteria_challenge_id_idea_challenges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_criteria")),
        sa.UniqueConstraint("challenge_id", "key", name=op.f("uq_idea_criteria_challenge_id_key")),
    )
    with op.batch_alter_table("idea_criteria", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idea_criteria_challenge_id"), ["challenge_id"], unique=False
        )
    op.create_table(
        "idea_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rationale", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["users.id"], name=op.f("fk_idea_assessments_assessor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_assessments_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_assessments")),
        sa.UniqueConstraint(
            "idea_id",
            "assessor_id",
            "revision",
            name=op.f("uq_idea_assessments_idea_id_assessor_id_revision"),
        ),
    )
    with op.batch_alter_table("idea_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_assessments_idea_id"), ["idea_id"], unique=False)
    op.create_table(
        "idea_assessment_scores",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["idea_assessments.id"],
            name=op.f("fk_idea_assessment_scores_assessment_id_idea_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "assessment_id", "criterion", name=op.f("pk_idea_assessment_scores")
        ),
    )
    op.create_table(
        "idea_saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("view", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idea_saved_filters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_saved_filters")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_idea_saved_filters_user_id_name")),
    )
    with op.batch_alter_table("idea_saved_filters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idea_saved_filters_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("idea_saved_filters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_saved_filters_user_id"))
    op.drop_table("idea_saved_filters")
    op.drop_table("idea_assessment_scores")
    with op.batch_alter_table("idea_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_assessments_idea_id"))
    op.drop_table("idea_assessments")
    with op.batch_alter_table("idea_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_criteria_challenge_id"))
    op.drop_table("idea_criteria")
