"""Taking a test's database away for a while: a SQLite file locked or gone, PostgreSQL refusing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import pg


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL."""
    database = make_url(url).database
    assert database, url
    return Path(database)


@contextmanager
def sqlite_write_locked(path: Path) -> Iterator[None]:
    """Hold the database's write lock, as another process would (readers go on, as WAL allows;
    writers wait for their busy timeout, then fail with "database is locked")."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@contextmanager
def sqlite_file_gone(path: Path) -> Iterator[None]:
    """Move the database file away (a volume unmounted, a file deleted) and back afterwards.

    Connections already open keep the file they opened; a new one finds nothing."""
    away = path.with_name(path.name + ".away")
    path.rename(away)
    try:
        yield
    finally:
        away.rename(path)


def allow_pg_connections(url: str, allowed: bool) -> None:
    """Let a test database accept connections again, or refuse them and end every open one."""
    name = make_url(url).database
    admin = create_engine(pg.base_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


@contextmanager
def pg_refusing(url: str) -> Iterator[None]:
    """PostgreSQL refuses the test database's connections until the block ends."""
    allow_pg_connections(url, False)
    try:
        yield
    finally:
        allow_pg_connections(url, True)
