"""The stores' tables, one SQLAlchemy `MetaData` (Core, no ORM): what the Alembic migrations
in `assistant/stores/migrations/versions/` build, on SQLite and PostgreSQL alike (a test compares
the migrated schema with these). JSON values (turns, scope, history, answer) are TEXT.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Double, Index, Integer, MetaData, Table, Text, false, text

metadata = MetaData()

# one row per conversation; its turns and document scope as JSON
conversations = Table(
    "conversations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("updated", Double, nullable=False),
    Column("scope", Text, nullable=False, server_default="[]"),
    Column("turns", Text, nullable=False, server_default="[]"),
)
Index("conversations_by_owner", conversations.c.owner, conversations.c.updated.desc())

# feedback on answers: the rating, the user's notes, and what the answer was built from
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("conversation", Text, nullable=False, server_default=""),
    Column("turn", Integer, nullable=False, server_default=text("-1")),
    Column("created", Double, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("right_answer", Text, nullable=False, server_default=""),
    Column("passage", Text, nullable=False, server_default=""),
    Column("question", Text, nullable=False),
    Column("standalone", Text, nullable=False, server_default=""),
    Column("history", Text, nullable=False, server_default="[]"),
    Column("answer", Text, nullable=False, server_default="{}"),
    sqlite_autoincrement=True,  # ids never reused, as the numbered migrations made it
)
Index("feedback_by_turn", feedback.c.owner, feedback.c.conversation, feedback.c.turn)

# the owner of each document added from the chat (no row: shared, see assistant.stores.owners)
documents = Table(
    "documents",
    metadata,
    Column("source", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("shared", Boolean, nullable=False, server_default=false()),
    Column("created", Double, nullable=False),
)
