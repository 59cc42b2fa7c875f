"""The small SQLite layer under the conversation, feedback and document-owner stores: one
database file in `$ASSISTANT_DATA_DIR`, its schema brought up to date by numbered migrations.

`PRAGMA user_version` holds the number of migrations applied; `connect()` applies the rest,
in order, each in its own transaction, so an old database is upgraded in place and a new one
is built from the same steps. Add a migration by appending to MIGRATIONS (never edit one
that has shipped).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

FILE_NAME = "assistant.db"

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations, one row each; turns and scope as JSON
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        title TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        scope TEXT NOT NULL DEFAULT '[]',
        turns TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX conversations_by_owner ON conversations (owner, updated DESC);
    """,
    # 2: feedback on answers: the rating, the user's notes, and what the answer was built from
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        conversation TEXT NOT NULL DEFAULT '',
        turn INTEGER NOT NULL DEFAULT -1,
        created REAL NOT NULL,
        rating INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        right_answer TEXT NOT NULL DEFAULT '',
        passage TEXT NOT NULL DEFAULT '',
        question TEXT NOT NULL,
        standalone TEXT NOT NULL DEFAULT '',
        history TEXT NOT NULL DEFAULT '[]',
        answer TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX feedback_by_turn ON feedback (owner, conversation, turn);
    """,
    # 3: the owner of each document added from the chat (no row: shared, see assistant.owners)
    """
    CREATE TABLE documents (
        source TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        shared INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL
    );
    """,
)

_lock = threading.Lock()


class StoreError(AssistantError):
    """The conversation/feedback database cannot be used (one line)."""


def db_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database lacks; returns its version after."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{FILE_NAME} is version {version}, newer than this program ({len(MIGRATIONS)})"
        )
    for number in range(version, len(MIGRATIONS)):
        try:  # one transaction per migration, its version set inside it
            conn.executescript(
                f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def connect(data_dir: Path | str) -> sqlite3.Connection:
    """A connection to the data dir's database, migrated (usable from any thread)."""
    path = db_path(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        with _lock:
            migrate(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    return conn


@dataclass
class Done:
    """What one statement gave: its rows (all fetched), the rows it changed, the new row id."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = 0
    lastrowid: int | None = None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Database:
    """One connection to the data dir's database, shared by the chat's threads: one
    statement at a time (a sqlite3 connection is not safe to use from two threads at once)."""

    def __init__(self, data_dir: Path | str) -> None:
        self.conn = connect(data_dir)
        self._lock = threading.Lock()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Done:
        try:
            with self._lock:
                cur = self.conn.execute(sql, args)
                return Done(cur.fetchall(), cur.rowcount, cur.lastrowid)
        except sqlite3.Error as exc:
            raise StoreError(f"{FILE_NAME}: {exc}") from None
