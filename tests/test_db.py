"""The stores' database (assistant/stores/db.py): Alembic migrations on SQLite and on a real
PostgreSQL server the session starts, an old SQLite file of the numbered migrations upgraded
in place, one migration when two processes start at once, and one-line errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.stores.conversations import Conversations
from assistant.stores.db import ALEMBIC_KEEPS_IT, FILE_NAME, LOCK_KEY, StoreError, engine
from assistant.stores.feedback import FeedbackStore
from assistant.stores.owners import DocumentOwners, Owner

ROOT = Path(__file__).resolve().parent.parent

# The old numbered migrations' SQL, as shipped (PRAGMA user_version counted them): frozen
# here to build the files that program left behind.
OLD_MIGRATIONS = (
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
    """
    CREATE TABLE documents (
        source TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        shared INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL
    );
    """,
)


def old_database(data_dir: Path, version: int) -> sqlite3.Connection:
    """A file as the old program left it after `version` numbered migrations."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data_dir / FILE_NAME)
    conn.executescript("".join(OLD_MIGRATIONS[:version]) + f"PRAGMA user_version = {version};")
    return conn


def starting(*args: str) -> subprocess.Popen:
    """A new process (a program starting) that opens the stores' database at `args` (a data
    dir, then a URL or none) once it is sent a line, its migrations logged on stderr."""
    code = (
        "import logging, sys; logging.basicConfig(level=logging.INFO); "
        "from assistant.stores.db import engine; print('ready', flush=True); sys.stdin.readline(); "
        "engine(*sys.argv[1:])"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT,
    )  # fmt: skip


def go(*procs: subprocess.Popen) -> tuple[subprocess.Popen, ...]:
    """Let the started processes open the database, all at once."""
    assert all(proc.stdout and proc.stdout.readline() == "ready\n" for proc in procs)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    return procs


def migrations_of(*procs: subprocess.Popen) -> list[str]:
    """What each process migrated, once it is done ('' when nothing)."""
    logs = [proc.stderr.read() if proc.stderr else "" for proc in procs]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * len(procs), logs
    return ["\n".join(ln for ln in log.splitlines() if "Running upgrade" in ln) for log in logs]


def command(data_dir: Path, database_url: str | None, *argv: str) -> subprocess.CompletedProcess:
    """`assistant ARGV` over these stores, as a user runs it."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    env.pop("ASSISTANT_DATABASE_URL", None)
    env.update({"ASSISTANT_DATABASE_URL": database_url} if database_url else {})
    return subprocess.run(
        [sys.executable, "-m", "assistant", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("version", [2, 3])
def test_an_old_sqlite_file_is_upgraded_in_place_with_its_rows(tmp_path, version):
    old = old_database(tmp_path, version)
    old.execute(
        "INSERT INTO conversations (id, owner, title, created, updated, turns)"
        " VALUES ('c1', 'user:ann', 'kept', 1, 1, '[{\"q\": \"Who?\"}]')"
    )
    old.execute(
        "INSERT INTO feedback (owner, conversation, turn, created, rating, question)"
        " VALUES ('user:ann', 'c1', 0, 2, -1, 'Who?')"
    )
    if version == 3:
        old.execute("INSERT INTO documents VALUES ('uploads/a.md', 'user:ann', 1, 3)")
    old.commit()
    old.close()

    conversations = Conversations(tmp_path)
    kept = conversations.get("user:ann", "c1")
    assert kept is not None and kept.title == "kept" and kept.turns == [{"q": "Who?"}]
    store = FeedbackStore(tmp_path)
    (rated,) = store.all()
    assert (rated.id, rated.rating, rated.conversation, rated.answer) == (1, -1, "c1", {})
    assert store.add(rated) == 2  # the old ids go on
    conversations.create("user:ann", "new")
    assert [s.title for s in conversations.list("user:ann")] == ["new", "kept"]
    owners = DocumentOwners(tmp_path)
    kept_owners = {"uploads/a.md": Owner("uploads/a.md", "user:ann", True)} if version == 3 else {}
    assert owners.all() == kept_owners
    owners.claim("uploads/b.md", "user:bob")
    assert not owners.all()["uploads/b.md"].shared

    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
        # an older program now says the file is newer than it, instead of building it again
        assert conn.execute("PRAGMA user_version").fetchone() == (ALEMBIC_KEEPS_IT,)
    assert migrations_of(*go(starting(str(tmp_path)))) == [""]  # once upgraded, nothing more


def test_the_migrated_schema_is_the_tables_module(tmp_path, database_url):
    """assistant/stores/tables.py and the migrations build the same tables, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from assistant.stores.tables import metadata

    with engine(tmp_path, database_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_database_newer_than_the_program_is_refused(tmp_path, database_url):
    Conversations(tmp_path, database_url).create("user:ann", "kept")
    with engine(tmp_path, database_url).begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    done = command(tmp_path, database_url, "feedback", "export", "--out", str(tmp_path / "x"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "revision 9999, newer than this program" in done.stderr

    old_database(tmp_path / "old", len(OLD_MIGRATIONS) + 1).close()
    with pytest.raises(StoreError, match="version 4, newer than this program"):
        Conversations(tmp_path / "old")


def test_two_processes_starting_at_once_migrate_once(postgres):
    """The migration's advisory lock: two processes starting while a third holds it both
    wait; then one builds the schema and the other finds it built. A later one does nothing."""
    import psycopg

    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))  # as a migration does
        both = go(starting(".", url), starting(".", url))
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        deadline = time.monotonic() + 60
        while other.execute(waiting).fetchone() != (2,):
            assert time.monotonic() < deadline, "the processes did not wait for the lock"
            time.sleep(0.05)
        other.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    ran = sorted(migrations_of(*both))
    assert ran[0] == "" and "Running upgrade  -> 0001" in ran[1], ran
    assert "Running upgrade 0001 -> 0002" in ran[1]
    assert migrations_of(*go(starting(".", url))) == [""]
    with engine(".", url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_postgresql_down_is_one_line_without_the_password(tmp_path):
    from tests.servers import free_port

    port = free_port()  # nothing listens there
    url = f"postgresql://ann:s3cret-word@127.0.0.1:{port}/assistant"
    with pytest.raises(StoreError) as err:
        Conversations(tmp_path, url)
    message = str(err.value)
    assert message.startswith(f"cannot reach the database at 127.0.0.1:{port}: ")
    assert "\n" not in message and "s3cret" not in message
    done = command(tmp_path, url, "feedback", "export", "--out", str(tmp_path / "x"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "s3cret" not in done.stderr and done.stderr.startswith("error: cannot reach")
    shown = command(tmp_path, url, "settings")
    assert f"postgresql://ann:***@127.0.0.1:{port}/assistant" in shown.stdout
    assert "s3cret" not in shown.stdout


def test_a_url_that_is_not_postgresql_or_a_data_dir_that_is_a_file_is_one_line(tmp_path):
    with pytest.raises(StoreError, match="must be postgresql://..., not mysql"):
        Conversations(tmp_path, "mysql://ann@127.0.0.1/assistant")
    taken = tmp_path / "file"
    taken.write_text("not a folder")
    with pytest.raises(StoreError, match=f"cannot open {taken / FILE_NAME}: "):
        Conversations(taken)
