"""`exportflow orders import FILE.csv`: book an order book straight into the database."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from temporalio.client import Client

from schemas.common import Role
from services.cli_progress import PhaseProgress
from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.db.models import UserRow
from services.orders_import.book import ImportReport, import_csv
from services.orders_import.report import report_csv


def _sales_ops_user(settings: Settings, user: str) -> str | None:
    """Why `user` may not book (None when they may)."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            row = session.get(UserRow, user)
    finally:
        engine.dispose()
    if row is None or Role.SALES_OPS.value not in row.roles.split(","):
        return f"{user} does not hold the sales_ops role (exportflow token create --role sales_ops)"
    return None


async def _book(
    settings: Settings, data: bytes, user: str, atomic: bool, progress: PhaseProgress
) -> ImportReport:
    from services.ops.state import connect_temporal

    async def temporal() -> Client | None:
        try:
            return await connect_temporal(settings)
        except Exception:  # unreachable: the worker's outbox sweeper starts the workflows
            print("Temporal is unreachable; the worker will start the workflows", file=sys.stderr)
            return None

    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    try:
        return await import_csv(
            data,
            user=user,
            atomic=atomic,
            write_session=session_factory(engine, write=True),
            task_queue=settings.task_queue,
            temporal=temporal,
            progress=progress,
        )
    finally:
        engine.dispose()


def run_import(
    settings: Settings, path: Path, user: str, atomic: bool, report_path: Path | None = None
) -> int:
    """Import the file as `user`; exit 0 when every order is booked (or was already)."""
    refused = _sales_ops_user(settings, user)
    if refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with PhaseProgress("orders") as progress:
        report = asyncio.run(_book(settings, path.read_bytes(), user, atomic, progress))
    for error in report.errors:
        print(f"row {error.row}, {error.field}: {error.message}", file=sys.stderr)
    print(f"{report.detail} ({report.rows:,} rows, {time.monotonic() - started:.1f} s)")
    if report_path is not None:
        report_path.write_text(report_csv(report), encoding="utf-8")
    return 1 if report.errors else 0
