"""ideas and the innovation loop

Revision ID: 47e36c1098a8
Revises: beedca36acf5
Create Date: 2026-11-28 01:34:41.504894
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "47e36c1098a8"
down_revision: str | None = "beedca36acf5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_idea_counters")),
    )
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("page", sa.String(length=2000), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spam_reason", sa.String(length=32), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["ideas.id"], name=op.f("fk_ideas_merged_into_id_ideas")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_ideas_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("reference", name=op.f("uq_ideas_reference")),
        sa.UniqueConstraint("request_id", name=op.f("uq_ideas_request_id")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ideas_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_ideas_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ideas_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ideas_site"), ["site"], unique=False)
        batch_op.create_index(batch_op.f("ix_ideas_stage"), ["stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_ideas_text_hash"), ["text_hash"], unique=False)

    op.create_table(
        "idea_contacts",
        sa.Column("idea_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("contact_ok", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_contacts_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", name=op.f("pk_idea_contacts")),
    )
    op.create_table(
        "idea_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=True),
        sa.Column("to_stage", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_idea_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_events_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_events")),
    )
    with op.batch_alter_table("idea_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_events_idea_id"), ["idea_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_idea_events_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "idea_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_idea_messages_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_messages_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_messages")),
    )
    with op.batch_alter_table("idea_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_messages_idea_id"), ["idea_id"], unique=False)

    op.create_table(
        "idea_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_idea_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_notes_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_notes")),
    )
    with op.batch_alter_table("idea_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_notes_idea_id"), ["idea_id"], unique=False)

    op.create_table(
        "idea_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_tags_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_tags")),
        sa.UniqueConstraint("idea_id", "tag", name=op.f("uq_idea_tags_idea_id_tag")),
    )
    with op.batch_alter_table("idea_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_tags_idea_id"), ["idea_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_idea_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idea_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_tags_tag"))
        batch_op.drop_index(batch_op.f("ix_idea_tags_idea_id"))

    op.drop_table("idea_tags")
    with op.batch_alter_table("idea_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_notes_idea_id"))

    op.drop_table("idea_notes")
    with op.batch_alter_table("idea_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_messages_idea_id"))

    op.drop_table("idea_messages")
    with op.batch_alter_table("idea_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_idea_events_idea_id"))

    op.drop_table("idea_events")
    op.drop_table("idea_contacts")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ideas_text_hash"))
        batch_op.drop_index(batch_op.f("ix_ideas_stage"))
        batch_op.drop_index(batch_op.f("ix_ideas_site"))
        batch_op.drop_index(batch_op.f("ix_ideas_received_at"))
        batch_op.drop_index(batch_op.f("ix_ideas_owner_id"))
        batch_op.drop_index(batch_op.f("ix_ideas_area"))

    op.drop_table("ideas")
    op.drop_table("idea_counters")
