"""Alembic's environment for the stores' schema. `assistant.stores.db.migrate` runs it on the
connection it holds (`config.attributes["connection"]`), inside its one transaction and
lock; it never opens a connection of its own, and there is no offline (`--sql`) mode."""

from __future__ import annotations

from alembic import context

from assistant.stores.tables import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    transactional_ddl=True,  # SQLite's DDL is transactional too (see assistant.stores.db)
)
with context.begin_transaction():
    context.run_migrations()
