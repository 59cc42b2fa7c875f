"""Who owns each document added from the chat, and whether its owner shared it, in the data
dir's database (`assistant.db`, see `assistant.db`).

A document with no row here is shared with everyone: what `assistant ingest` indexed, and
uploads made before documents had owners. An upload from the chat gets a row (its owner a
signed-in `user:NAME`, or `browser:ID` with sign-in off) and is private until shared. What
the rows mean for a reader is `assistant.access`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assistant.db import Database


@dataclass(frozen=True)
class Owner:
    source: str
    owner: str
    shared: bool


class DocumentOwners:
    """The ownership rows over one data dir."""

    def __init__(self, data_dir: Path | str) -> None:
        self.db = Database(data_dir)

    def claim(self, source: str, owner: str) -> None:
        """`source` belongs to `owner`; private, unless that owner had already shared it."""
        self.db.execute(
            "INSERT INTO documents (source, owner, shared, created) VALUES (?, ?, 0, ?)"
            " ON CONFLICT (source) DO UPDATE SET"
            " shared = CASE WHEN documents.owner = excluded.owner THEN documents.shared ELSE 0 END,"
            " owner = excluded.owner",
            (source, owner, time.time()),
        )

    def set_shared(self, source: str, shared: bool) -> bool:
        """Share a document with everyone, or make it private again; False without a row."""
        cur = self.db.execute(
            "UPDATE documents SET shared = ? WHERE source = ?", (int(bool(shared)), source)
        )
        return cur.rowcount > 0

    def forget(self, source: str) -> None:
        """No owner any more: removed, or indexed again by `assistant ingest` (shared)."""
        self.db.execute("DELETE FROM documents WHERE source = ?", (source,))

    def all(self) -> dict[str, Owner]:
        rows = self.db.execute("SELECT source, owner, shared FROM documents")
        return {source: Owner(source, owner, bool(shared)) for source, owner, shared in rows}
