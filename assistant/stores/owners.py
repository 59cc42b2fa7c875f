"""Who owns each document added from the chat, and whether its owner shared it, in the
stores' database (`assistant.db` in the data dir, or PostgreSQL; see `assistant.stores.db`).

A document with no row here is shared with everyone: what `assistant ingest` indexed, and
uploads made before documents had owners. An upload from the chat gets a row (its owner a
signed-in `user:NAME`, or `browser:ID` with sign-in off) and is private until shared. What
the rows mean for a reader is `assistant.stores.access`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, delete, false, select, update
from sqlalchemy.dialects import postgresql, sqlite

from assistant.stores.db import Database
from assistant.stores.tables import documents as table


@dataclass(frozen=True)
class Owner:
    source: str
    owner: str
    shared: bool


class DocumentOwners:
    """The ownership rows: the data dir's SQLite file, or the database at `database_url`."""

    def __init__(self, data_dir: Path | str, database_url: str | None = None) -> None:
        self.db = Database(data_dir, database_url)
        # INSERT ... ON CONFLICT, which both databases say alike
        postgres = self.db.engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if postgres else sqlite.insert

    def claim(self, source: str, owner: str) -> None:
        """`source` belongs to `owner`; private, unless that owner had already shared it."""
        new = self._insert(table).values(
            source=source, owner=owner, shared=False, created=time.time()
        )
        same_owner = table.c.owner == new.excluded.owner
        self.db.execute(
            new.on_conflict_do_update(
                index_elements=[table.c.source],
                set_={"shared": case((same_owner, table.c.shared), else_=false()),
                      "owner": new.excluded.owner},
            )
        )  # fmt: skip

    def set_shared(self, source: str, shared: bool) -> bool:
        """Share a document with everyone, or make it private again; False without a row."""
        done = self.db.execute(
            update(table).where(table.c.source == source).values(shared=bool(shared))
        )
        return done.rowcount > 0

    def forget(self, source: str) -> None:
        """No owner any more: removed, or indexed again by `assistant ingest` (shared)."""
        self.db.execute(delete(table).where(table.c.source == source))

    def all(self) -> dict[str, Owner]:
        rows = self.db.execute(select(table.c.source, table.c.owner, table.c.shared))
        return {source: Owner(source, owner, bool(shared)) for source, owner, shared in rows}
