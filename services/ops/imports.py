"""Bulk import of an order book from CSV, for the API route and the console's upload page."""

from __future__ import annotations

from temporalio.client import Client

from services.ops.errors import ServiceUnavailable
from services.ops.state import AppState
from services.orders_import import ImportReport, import_csv

MAX_BYTES = 20 * 1024 * 1024


async def import_orders(state: AppState, data: bytes, *, user: str, atomic: bool) -> ImportReport:
    """Validate the file, book its orders and start their workflows; the report of each."""

    async def temporal() -> Client | None:
        try:
            return await state.temporal_client()
        except ServiceUnavailable:  # booked all the same; the outbox sweeper starts them
            return None

    # The batches are written in threads (`import_csv` hands them over): a 10,000-order file
    # is many seconds of database work, which the event loop must not wait on.
    return await import_csv(
        data,
        user=user,
        atomic=atomic,
        write_session=state.thread_write_session,
        task_queue=state.settings.task_queue,
        temporal=temporal,
    )
