"""The database a benchmark runs on: a SQLite file in its folder, or a throwaway PostgreSQL one.

`--database postgresql` creates `exportflow_bench_<random>` on the server named by
EXPORTFLOW_BENCH_PG_URL (default: the local server, trust auth, maintenance database `test`)
and drops it afterwards, also when the benchmark fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

BACKENDS = ("sqlite", "postgresql")
PG_URL_ENV = "EXPORTFLOW_BENCH_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PREFIX = "exportflow_bench_"


def add_argument(parser: argparse.ArgumentParser) -> None:
    """`--database sqlite|postgresql` on a benchmark's command line."""
    parser.add_argument(
        "--database",
        choices=BACKENDS,
        default="sqlite",
        help=f"the backend exportflow runs on (postgresql: a throwaway database on {PG_URL_ENV})",
    )


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'exportflow.db'}"
        return
    base = make_url(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)
    name = PREFIX + secrets.token_hex(6)
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
