"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

SessionFactory = Callable[[], Session]


SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
PG_CONNECT_TIMEOUT_SECONDS = 10  # libpq waits for ever by default on a host that drops packets


def make_engine(
    url: str, *, pool_size: int = 10, busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS
) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so API and worker can share it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


def probe(engine: Engine, *, lock_timeout: float = 2.0) -> None:
    """Raise unless the database can be read and written now (for readiness).

    SQLite is probed on a connection of its own: pooled connections hold their file open and
    would not notice it gone or replaced. The write lock is taken and handed back at once, so
    a database locked by another process for longer than `lock_timeout` is reported as well.
    PostgreSQL: a pooled connection, pinged first, answers a query.
    """
    database = engine.url.database
    if is_sqlite(engine) and database and database != ":memory:":
        # mode=rw: a missing file is an error, not a new empty database.
        uri = f"file:{quote(database)}?mode=rw"
        conn = sqlite3.connect(uri, uri=True, timeout=lock_timeout, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (see below).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails with SQLITE_BUSY when another
    # writer got in between; writers take the lock up front so they queue on busy_timeout.
    # Readers stay deferred so a status lookup never waits for a writer (WAL).
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def session_factory(engine: Engine, *, write: bool = False) -> SessionFactory:
    """A callable that opens a new session; `write=True` for sessions that change data."""
    bind = engine.execution_options(sqlite_immediate=True) if write else engine

    def open_session() -> Session:
        return Session(bind, expire_on_commit=False)

    return open_session


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded database."""
    return engine.dialect.name == "sqlite"
