"""Conversations and feedback: the tables the old numbered SQLite migrations 1 and 2 made
(a file at `PRAGMA user_version` 2 is stamped at this revision, see assistant.stores.db).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("updated", sa.Double(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("turns", sa.Text(), nullable=False, server_default="[]"),
    )
    op.create_index("conversations_by_owner", "conversations", ["owner", sa.text("updated DESC")])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False, server_default=""),
        sa.Column("turn", sa.Integer(), nullable=False, server_default=sa.text("-1")),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("right_answer", sa.Text(), nullable=False, server_default=""),
        sa.Column("passage", sa.Text(), nullable=False, server_default=""),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("standalone", sa.Text(), nullable=False, server_default=""),
        sa.Column("history", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("answer", sa.Text(), nullable=False, server_default="{}"),
        sqlite_autoincrement=True,
    )
    op.create_index("feedback_by_turn", "feedback", ["owner", "conversation", "turn"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("conversations")
