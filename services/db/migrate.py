"""Schema migrations (Alembic), driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    CheckConstraint,
    Connection,
    Engine,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import services.db.models  # noqa: F401  (importing registers the tables on SQLModel.metadata)

# Shipped as package data next to this module, so editable and wheel installs both find it.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# pg_advisory_lock key: the bytes of "exportfw". Advisory locks are per database, so
# upgrades of different databases on one server never wait for each other.
PG_LOCK_KEY = 0x6578706F72746677

# Alembic's `context` and `op` are module-level proxies, so two upgrades in one process must
# not overlap even on different databases. Taken inside the database lock, never around it.
_ALEMBIC_LOCK = threading.Lock()

_KINDS: dict[type, str] = {
    Index: "index",
    UniqueConstraint: "unique constraint",
    ForeignKeyConstraint: "foreign key",
    PrimaryKeyConstraint: "primary key",
    CheckConstraint: "check constraint",
}


def alembic_config(url: str) -> Config:
    """An Alembic config for `url`, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The config is a ConfigParser: a literal % (URL-encoded password) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migration_engine(url: str) -> Engine:
    """An engine for migrating: no pool, and on SQLite one write-locked transaction per run."""
    if not _is_sqlite(url):
        # No pool: the session-level advisory lock must die with the connection it was taken on.
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})
    event.listen(engine, "connect", _sqlite_manual_transactions)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def upgrade(url: str, *, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision`; a no-op when it is already there."""
    parsed = make_url(url)
    if _is_sqlite(url) and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = migration_engine(url)
    try:
        with engine.connect() as connection, _database_lock(connection), _ALEMBIC_LOCK:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None when it has never been migrated."""
    if _missing_sqlite_file(url):
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        engine.dispose()


def check(url: str) -> list[str]:
    """Differences between the live schema at `url` and the models; empty when in sync."""
    # An absent SQLite file is compared as an empty database rather than created.
    engine = create_engine("sqlite://" if _missing_sqlite_file(url) else url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    return [line for diff in diffs for line in _describe(diff)]


@contextmanager
def _database_lock(connection: Connection) -> Iterator[None]:
    # SQLite needs nothing here: its migration transaction starts with BEGIN IMMEDIATE.
    if connection.dialect.name != "postgresql":
        yield
        return
    # Session-level rather than transaction-level, so a future migration that commits
    # mid-way (autocommit_block, e.g. CREATE INDEX CONCURRENTLY) keeps the lock.
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
    connection.commit()
    try:
        yield
    except BaseException:
        # The connection may be unusable after a failed migration; closing it (it is not
        # pooled) ends the session, which releases the lock.
        connection.invalidate()
        raise
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
    connection.commit()


def _describe(diff: Any) -> list[str]:
    """Human-readable lines for one entry of `compare_metadata`'s result."""
    if isinstance(diff, list):  # column changes come grouped per column
        return [line for item in diff for line in _describe(item)]
    op, *args = diff
    if op.startswith("modify_"):
        _schema, table, column, _existing, in_db, in_models = args
        what = op.removeprefix("modify_")
        return [f"{table}.{column}: {what} {in_db!r} in the database, {in_models!r} in the models"]
    where = "missing from the database" if op.startswith("add_") else "not in the models"
    if op.endswith("_column"):
        _schema, table, column = args
        return [f"column {table}.{column.name}: {where}"]
    return [f"{_label(args[-1])}: {where}"]


def _label(obj: Any) -> str:
    if isinstance(obj, Table):
        return f"table {obj.name}"
    kind = _KINDS.get(type(obj), type(obj).__name__)
    name = f" {obj.name}" if obj.name else ""
    label = f"{kind}{name} on {obj.table.name}({', '.join(c.name for c in obj.columns)})"
    if isinstance(obj, ForeignKeyConstraint):
        targets = ", ".join(element.column.name for element in obj.elements)
        label += f" -> {obj.referred_table.name}({targets})"
    return label


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _missing_sqlite_file(url: str) -> bool:
    database = make_url(url).database
    if not _is_sqlite(url) or not database or database == ":memory:":
        return False
    return not Path(database).exists()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would defer BEGIN until the first INSERT and run DDL outside any transaction;
    # we take control so the DDL is transactional and the lock is held from the first read.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Foreign keys stay off (the SQLite default): batch mode rebuilds tables by copy, drop and
    # rename, which an enforcing connection would refuse or cascade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
