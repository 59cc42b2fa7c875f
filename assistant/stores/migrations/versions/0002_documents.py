"""Document owners: the table the old numbered SQLite migration 3 made, `shared` a Boolean
(a file at `PRAGMA user_version` 3 is stamped at this revision, its INTEGER 0/1 read as one).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("documents")
