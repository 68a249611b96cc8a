"""Throwaway PostgreSQL databases for tests: each test gets a fresh one, dropped afterwards.

Use from any test module, without a conftest:

    pg_url = pg_database_fixture()

    @pytest.mark.postgres
    def test_something(pg_url: str) -> None: ...

When the server is unreachable the test is skipped, except with CI=true, where it fails:
CI must never pass by skipping.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

BASE_URL_ENV = "EXPORTFLOW_TEST_PG_URL"
DEFAULT_BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# drop_database refuses any other name, so a wrong URL can never drop a real database.
NAME_PREFIX = "exportflow_test_"


def base_url() -> str:
    """The maintenance database to connect to, from EXPORTFLOW_TEST_PG_URL."""
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def pg_available() -> bool:
    """True when the PostgreSQL server at the base URL accepts connections."""
    return _unreachable_reason(base_url()) is None


def require_pg() -> None:
    """Skip the calling test when PostgreSQL is unreachable, or fail it when CI=true."""
    url = base_url()
    reason = _unreachable_reason(url)
    if reason is None:
        return
    message = f"PostgreSQL at {make_url(url)!s} is unreachable ({reason}); set {BASE_URL_ENV}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}. CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def create_database() -> str:
    """Create an empty database with a random name; returns its URL."""
    name = f"{NAME_PREFIX}{secrets.token_hex(6)}"
    engine = _autocommit_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(base_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by create_database, closing any connections still open to it."""
    name = make_url(url).database or ""
    if not name.startswith(NAME_PREFIX) or not name.removeprefix(NAME_PREFIX).isalnum():
        raise ValueError(f"refusing to drop {name!r}: not made by create_database")
    engine = _autocommit_engine()
    try:
        with engine.connect() as connection:
            # WITH (FORCE), PostgreSQL 13+: a test that failed may have left a session open.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def pg_database_fixture(*, name: str = "pg_url") -> Any:
    """A fixture, to assign to `name` in a test module, yielding the URL of a fresh database."""

    @pytest.fixture(name=name)
    def fresh_database() -> Iterator[str]:
        require_pg()
        url = create_database()
        try:
            yield url
        finally:
            drop_database(url)

    return fresh_database


@functools.cache
def _unreachable_reason(url: str) -> str | None:
    # Cached per URL: an unreachable server would otherwise cost a timeout per test.
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as error:
        first_line = next(iter(str(error).splitlines()), "")
        return f"{type(error).__name__}: {first_line}"
    return None


def _autocommit_engine() -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    return create_engine(base_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
