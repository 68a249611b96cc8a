"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = Callable[[], Session]
AsyncSessionFactory = async_sessionmaker[AsyncSession]


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


def async_url(url: str) -> URL:
    """The same database through its asyncio driver: aiosqlite, or psycopg's async mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    # SQLAlchemy's psycopg dialect runs psycopg's AsyncConnection under create_async_engine.
    return parsed.set(drivername="postgresql+psycopg")


def make_async_engine(url: str, *, pool_size: int = 10, reads: bool = False) -> AsyncEngine:
    """The API's engine: database IO never blocks the event loop (SQLite's runs in a thread
    per connection, PostgreSQL's on the loop through psycopg's async connection).

    `reads=True`: for reads only, in autocommit on PostgreSQL, which saves the BEGIN and the
    ROLLBACK round trips around every query.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            target, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=pool_size
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pre-ping: it would double the round trips of the hottest read. A connection the server
    # dropped fails one query, and SQLAlchemy then replaces the whole pool.
    extra: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if reads else {}
    return create_async_engine(
        target,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
        **extra,
    )


def async_session_factory(engine: AsyncEngine, *, write: bool = False) -> AsyncSessionFactory:
    """Async sessions (SQLModel's, so `run_sync` hands the repositories a SQLModel Session)."""
    bind = engine.execution_options(sqlite_immediate=True) if write else engine
    return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)


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
