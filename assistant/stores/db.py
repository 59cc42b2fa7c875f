"""The database under the conversation, feedback and document-owner stores: the SQLite file
`assistant.db` in `$ASSISTANT_DATA_DIR` by default, PostgreSQL when `ASSISTANT_DATABASE_URL`
names one.
SQLAlchemy Core over either; the tables are `assistant/stores/tables.py`, built and kept current by
the Alembic migrations in `assistant/stores/migrations/`, run when a process first connects.

One engine per database per process. The migration runs in one transaction that holds a
lock (SQLite's write lock by BEGIN IMMEDIATE, PostgreSQL's advisory lock), so two processes
starting at once never both migrate. A file made by the old numbered SQLite migrations
(`PRAGMA user_version` 2 or 3, no `alembic_version` table) is stamped at the revision it matches
and upgraded in place. Add a migration as a new file in `assistant/stores/migrations/versions/`
(never edit one that has shipped) and change `assistant/stores/tables.py` to match.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.sql import Executable

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.settings import Settings

FILE_NAME = "assistant.db"
MIGRATIONS = Path(__file__).with_name("migrations")
LEGACY = {2: "0001", 3: "0002"}  # PRAGMA user_version of the old numbered migrations -> revision
ALEMBIC_KEEPS_IT = 1000  # user_version once Alembic keeps the file: older programs refuse it
LOCK_KEY = 0x63697465  # pg_advisory_xact_lock's key for the migration ("cite")


class StoreError(AssistantError):
    """The stores' database cannot be used (one line)."""


def db_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def server_url(database_url: str) -> URL:
    """The SQLAlchemy URL of `ASSISTANT_DATABASE_URL` (postgresql://..., driven by psycopg)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise StoreError("ASSISTANT_DATABASE_URL is not a URL (postgresql://...)") from None
    if url.get_backend_name() not in {"postgresql", "postgres"}:
        raise StoreError(f"ASSISTANT_DATABASE_URL must be postgresql://..., not {url.drivername}")
    return url.set(drivername="postgresql+psycopg")


def shown(database_url: str) -> str:
    """The URL with its password hidden (for messages and `assistant settings`)."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def where(engine: Engine) -> str:
    """The database as a message names it: the SQLite file, or PostgreSQL's host:port."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def problem(engine: Engine, exc: BaseException, opening: bool = False) -> str:
    """A database error as one line, naming the database but never its password."""
    detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
    if engine.url.password:
        detail = detail.replace(str(engine.url.password), "***")
    if engine.url.get_backend_name() == "sqlite":
        return f"cannot open {where(engine)}: {detail}" if opening else f"{FILE_NAME}: {detail}"
    if isinstance(exc, OperationalError):
        return f"cannot reach the database at {where(engine)}: {detail}"
    return f"the database at {where(engine)}: {detail}"


@contextmanager
def one_line(engine: Engine) -> Iterator[None]:
    """Turn a database error inside the block into a StoreError of one line."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(problem(engine, exc)) from None


def _sqlite(data_dir: Path | str) -> Engine:
    """The data dir's SQLite file: WAL, a 30 s busy timeout, and transactions SQLAlchemy
    begins itself (so DDL is transactional, and a migration can BEGIN IMMEDIATE)."""
    path = db_path(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}") from None
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _connected(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # the driver begins nothing; the "begin" hook does
        dbapi.execute("PRAGMA journal_mode = WAL")
        dbapi.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def _postgres(database_url: str) -> Engine:
    return create_engine(
        server_url(database_url),
        pool_pre_ping=True,  # a restarted server costs one retry, not an error
        connect_args={"connect_timeout": 10, "application_name": "cited-assistant"},
    )


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(data_dir: Path | str, database_url: str | None = None) -> Engine:
    """The engine of the database (PostgreSQL when a URL is given, else the data dir's
    SQLite file), migrated on first use; one per database per process."""
    key = database_url or str(db_path(data_dir).resolve())
    with _lock:
        if key not in _engines:
            made = _postgres(database_url) if database_url else _sqlite(data_dir)
            try:
                migrate(made)
            except SQLAlchemyError as exc:
                made.dispose()
                raise StoreError(problem(made, exc, opening=True)) from None
            except BaseException:
                made.dispose()
                raise
            _engines[key] = made
        return _engines[key]


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision, in one transaction that holds a lock."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        with conn.begin():
            _lock_database(conn)
            config.attributes["connection"] = conn
            _check_version(conn, config)
            if stamp := _legacy_revision(conn):
                command.stamp(config, stamp)
            command.upgrade(config, "head")
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA user_version = {ALEMBIC_KEEPS_IT}")


def _lock_database(conn: Connection) -> None:
    """PostgreSQL: wait for any other process's migration (the lock ends with the
    transaction). SQLite's BEGIN IMMEDIATE already holds the file's write lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")


def _check_version(conn: Connection, config: Any) -> None:
    """A database a newer program migrated is refused, not touched."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(config)
    known = {script.revision for script in scripts.walk_revisions()}
    current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and current not in known:
        raise StoreError(
            f"{where(conn.engine)} is at schema revision {current}, newer than this program "
            f"(revision {scripts.get_current_head()})"
        )


def _legacy_revision(conn: Connection) -> str | None:
    """The revision a SQLite file of the old numbered migrations matches (None when it is
    not one: new, or kept by Alembic already)."""
    if conn.dialect.name != "sqlite" or inspect(conn).has_table("alembic_version"):
        return None
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    if version == 0:
        return None
    if version > max(LEGACY):
        raise StoreError(f"{FILE_NAME} is version {version}, newer than this program")
    if version not in LEGACY:
        raise StoreError(f"{FILE_NAME} is version {version}, which no release made")
    return LEGACY[version]


@dataclass
class Done:
    """What one statement gave: its rows (all fetched) and the rows it changed."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Database:
    """A store's way to its database: the migrated engine, each call in a transaction of
    its own, any error as one line (StoreError). Safe to share between threads."""

    def __init__(self, data_dir: Path | str, database_url: str | None = None) -> None:
        self.engine = engine(data_dir, database_url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction: committed at the end of the block, else rolled back."""
        with one_line(self.engine), self.engine.begin() as conn:
            yield conn

    def execute(self, statement: Executable) -> Done:
        with self.begin() as conn:
            result = conn.execute(statement)
            rows = [tuple(row) for row in result] if result.returns_rows else []
            return Done(rows, result.rowcount)


Store = TypeVar("Store")


def shared_store(kind: Callable[[str, str | None], Store], settings: Settings) -> Store:
    """The one `kind` store (Conversations, FeedbackStore, DocumentOwners) of the settings'
    database that a process's threads share."""
    index = settings.index
    return _shared(kind, str(Path(index.data_dir).resolve()), index.database_url)


@functools.cache
def _shared(kind: Callable[[str, str | None], Any], data_dir: str, url: str | None) -> Any:
    return kind(data_dir, url)
