"""Migrations build exactly the models' schema, on SQLite and PostgreSQL, once and safely."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from services.db import migrate
from tests import pg

pg_url = pg.pg_database_fixture()

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL_TABLES = frozenset(SQLModel.metadata.tables)

# Each child imports everything first, says so, then waits for the go: the two upgrades
# start within a millisecond of each other, not a Python start-up apart.
CHILD = """
import sys
from services.db.migrate import upgrade
print("ready", flush=True)
sys.stdin.readline()
upgrade(sys.argv[1])
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file in a directory not yet made, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'not' / 'yet' / 'exportflow.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def head() -> str:
    """The newest revision of the packaged migrations."""
    revision = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


def tables(url: str) -> set[str]:
    """The tables that exist in the database."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def schema(url: str) -> dict[str, list[str]]:
    """Columns, indexes and constraints of every table, for before/after comparisons."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        return {
            table: sorted(
                repr(item)
                for items in (
                    inspector.get_columns(table),
                    inspector.get_indexes(table),
                    inspector.get_unique_constraints(table),
                    inspector.get_foreign_keys(table),
                )
                for item in items
            )
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run statements in one committed transaction."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def count_users(url: str) -> int:
    """Rows in the users table."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM users")).scalar_one())
    finally:
        engine.dispose()


def upgrade_in_thread(url: str, errors: list[BaseException]) -> threading.Thread:
    """Start upgrade(url) on a thread, recording what it raises."""

    def run() -> None:
        try:
            migrate.upgrade(url)
        except BaseException as error:  # handed to the test, which fails on it
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_upgrade_builds_every_model_table_and_check_finds_no_difference(
    database_url: str,
) -> None:
    assert migrate.current(database_url) is None

    migrate.upgrade(database_url)

    assert tables(database_url) == MODEL_TABLES | {"alembic_version"}
    assert migrate.check(database_url) == []
    assert migrate.current(database_url) == head()


def test_second_upgrade_changes_nothing(database_url: str) -> None:
    migrate.upgrade(database_url)
    execute(database_url, "INSERT INTO users VALUES ('ada', 'booker', CURRENT_TIMESTAMP)")
    before = schema(database_url)

    migrate.upgrade(database_url)

    assert schema(database_url) == before
    assert count_users(database_url) == 1
    assert migrate.current(database_url) == head()


def test_check_reports_how_the_schema_drifted_from_the_models(database_url: str) -> None:
    migrate.upgrade(database_url)
    execute(
        database_url,
        "DROP INDEX ix_orders_state",
        "ALTER TABLE orders ADD COLUMN extra INTEGER",
        "CREATE TABLE stray (id INTEGER PRIMARY KEY)",
    )

    assert sorted(migrate.check(database_url)) == [
        "column orders.extra: not in the models",
        "index ix_orders_state on orders(state): missing from the database",
        "table stray: not in the models",
    ]


def test_alembic_commands_work_from_the_url_alone_and_downgrade_to_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    config = migrate.alembic_config(url)  # no connection in attributes: env.py makes its own

    command.upgrade(config, "head")
    assert migrate.current(url) == head()
    assert migrate.check(url) == []

    command.downgrade(config, "base")
    assert migrate.current(url) is None
    assert tables(url) == {"alembic_version"}


def test_current_and_check_leave_a_missing_sqlite_file_uncreated(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    url = f"sqlite:///{path}"

    assert migrate.current(url) is None
    assert "table orders: missing from the database" in migrate.check(url)
    assert not path.exists()


@pytest.mark.postgres
def test_two_threads_upgrading_one_postgres_database_both_succeed(pg_url: str) -> None:
    errors: list[BaseException] = []
    threads = [upgrade_in_thread(pg_url, errors) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert migrate.current(pg_url) == head()
    assert migrate.check(pg_url) == []


def test_two_processes_upgrading_one_database_both_succeed(database_url: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        errors = [child.communicate(timeout=60)[1] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()

    assert [child.returncode for child in children] == [0, 0], errors
    assert migrate.current(database_url) == head()


@pytest.mark.postgres
def test_upgrade_waits_while_another_session_holds_the_migration_lock(pg_url: str) -> None:
    errors: list[BaseException] = []
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": migrate.PG_LOCK_KEY})
            holder.commit()
            worker = upgrade_in_thread(pg_url, errors)
            worker.join(timeout=1.0)
            blocked, revision_meanwhile = worker.is_alive(), migrate.current(pg_url)
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": migrate.PG_LOCK_KEY})
            holder.commit()
    finally:
        engine.dispose()
    worker.join(timeout=60)

    assert blocked
    assert revision_meanwhile is None
    assert errors == []
    assert migrate.current(pg_url) == head()


def test_unreachable_postgres_skips_locally_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Port 1 refuses at once: no timeout to wait for.
    monkeypatch.setenv(pg.BASE_URL_ENV, "postgresql+psycopg://postgres@127.0.0.1:1/test")
    monkeypatch.delenv("CI", raising=False)
    assert not pg.pg_available()
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        pg.require_pg()

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        pg.require_pg()
