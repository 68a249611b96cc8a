"""Alembic environment for exportflow's SQLModel tables.

The URL is the config's `sqlalchemy.url`; a caller that already holds a connection (as
`services.db.migrate.upgrade` does, to take its lock first) passes it in
`config.attributes["connection"]` instead. Logging is left to the host application.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import services.db.models  # noqa: F401  (importing registers the tables on SQLModel.metadata)
from services.db.migrate import migration_engine

config = context.config
target_metadata = SQLModel.metadata


# SQLite cannot ALTER most things in place, so revisions use batch mode (rebuild by copy).
# Its DDL is declared transactional: the engine of services.db.migrate issues BEGIN IMMEDIATE
# itself, so a whole upgrade is one transaction holding the write lock, and two processes
# cannot both apply a revision. (On a plain pysqlite engine DDL autocommits regardless.)
# None keeps Alembic's own choice for other backends.
def _transactional_ddl(backend: str) -> bool | None:
    return True if backend == "sqlite" else None


def _render_item(kind: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    # Autogenerate would write sqlmodel.sql.sqltypes.AutoString(...), an import the revision
    # lacks; it is a plain VARCHAR on every backend, so new revisions say sa.String.
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_offline() -> None:
    """Render the SQL to stdout (`alembic upgrade --sql`), without a database."""
    url = _url()
    backend = make_url(url).get_backend_name()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=backend == "sqlite",
        transactional_ddl=_transactional_ddl(backend),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: Connection) -> None:
    """Apply the migrations on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=_transactional_ddl(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url on the Alembic config (see services.db.migrate)")
    return url


def main() -> None:
    """Entry point, run by Alembic for every command."""
    if context.is_offline_mode():
        run_offline()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run_online(connection)
        return
    # Standalone (the `alembic` command line): an engine of our own, set up like migrate's.
    engine = migration_engine(_url())
    try:
        with engine.connect() as own_connection:
            run_online(own_connection)
    finally:
        engine.dispose()


main()
