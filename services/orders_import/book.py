"""Booking an imported order book: in batches, each order once, workflows started in bounds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError

from services.db import orders_repo
from services.db.engine import SessionFactory
from services.db.models import OrderRow
from services.orders_import.parse import ParsedOrder, RowError, parse, request_hash
from services.orders_start import start_order_workflow
from workflows.ids import new_order_id

log = logging.getLogger(__name__)

BATCH_ORDERS = 200
# Bounded so a 10,000-order file cannot flood the Temporal frontend with concurrent starts.
START_CONCURRENCY = 32
START_CHUNK = 500
# Imported orders carry an Idempotency-Key of their own: the (created_by, idempotency_key)
# unique constraint makes two concurrent imports of one file book each order once.
KEY_PREFIX = "import:"


class OrderResult(BaseModel):
    """What became of one order of the file."""

    external_ref: str
    rows: list[int]
    status: Literal["booked", "exists", "invalid", "not_booked"]
    order_id: str | None = None


class ImportReport(BaseModel):
    """The outcome of an import: counts, every error, and one result per order."""

    detail: str
    atomic: bool
    rows: int
    orders: int
    booked: int
    existing: int
    invalid: int
    errors: list[RowError]
    results: list[OrderResult]


def _check_existing(
    write_session: SessionFactory, orders: list[ParsedOrder], user: str
) -> list[RowError]:
    """Orders booked before under the same ref are not booked again; changed ones are errors."""
    with write_session() as session:
        refs = [o.ref for o in orders]
        prior = orders_repo.find_by_external_refs(session, created_by=user, refs=refs)
    errors = []
    for order in orders:
        row = prior.get(order.ref)
        if row is None or order.booking is None:
            continue
        order.order_id = row.id
        if row.request_hash == request_hash(order.booking):
            order.status = "exists"
            continue
        order.status = "invalid"
        errors.append(
            RowError(
                row=order.rows[0],
                field="external_ref",
                message=f"already booked as {row.id} with other content; use a new external_ref",
            )
        )
    return errors


def _insert(session: Session, order: ParsedOrder, user: str, now: datetime) -> None:
    assert order.booking is not None
    order.order_id = new_order_id()
    order.row = orders_repo.insert_order(
        session,
        order_id=order.order_id,
        booking=order.booking,
        created_by=user,
        idempotency_key=KEY_PREFIX + order.ref,
        request_hash=request_hash(order.booking),
        now=now,
    )
    order.status = "booked"


def _locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig)


def _retry_locked(write: Callable[[], None], attempts: int = 5) -> None:
    """Run a write transaction again when SQLite's write lock stayed busy past its timeout."""
    # The worker's activities take the same single write lock; an import that waited out the
    # busy timeout tries again rather than failing the whole import.
    for attempt in range(attempts):
        try:
            write()
            return
        except OperationalError as exc:
            if not _locked(exc) or attempt == attempts - 1:
                raise
            log.warning("database busy; import batch retried (%d)", attempt + 1)


def _book_batch(write_session: SessionFactory, batch: list[ParsedOrder], user: str) -> None:
    """One transaction per batch; a lost race with a concurrent import falls back to one by one."""
    now = datetime.now(UTC)

    def write() -> None:
        with write_session() as session:
            for order in batch:
                _insert(session, order, user, now)
            session.commit()

    try:
        _retry_locked(write)
        return
    except IntegrityError:
        pass
    for order in batch:
        try:
            with write_session() as session:
                _insert(session, order, user, now)
                session.commit()
        except IntegrityError:
            with write_session() as session:
                key = KEY_PREFIX + order.ref
                prior = orders_repo.find_by_idempotency_key(session, created_by=user, key=key)
            order.status, order.row = "exists", None
            order.order_id = prior.id if prior else None


async def _start_chunk(
    client: Client, rows: list[OrderRow], write_session: SessionFactory, task_queue: str
) -> None:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(row: OrderRow) -> str | None:
        async with gate:
            try:
                await start_order_workflow(client, row, task_queue=task_queue)
            except RPCError as exc:  # the worker's outbox sweeper starts it later
                log.warning("order %s booked; workflow start deferred: %s", row.id, exc)
                return None
            return row.id

    started = [i for i in await asyncio.gather(*(start(r) for r in rows)) if i]

    def mark() -> None:
        with write_session() as session:
            orders_repo.mark_workflows_started(session, order_ids=started)
            session.commit()

    await asyncio.to_thread(_retry_locked, mark)


async def import_csv(
    data: bytes,
    *,
    user: str,
    atomic: bool,
    write_session: SessionFactory,
    task_queue: str,
    temporal: Callable[[], Awaitable[Client | None]],
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, book it in batches, then start the orders' workflows."""
    orders, errors, rows = await asyncio.to_thread(parse, data)
    errors += await asyncio.to_thread(_check_existing, write_session, orders, user)
    pending = [o for o in orders if o.status == "pending"]
    if errors and atomic:
        for order in pending:
            order.status = "not_booked"
        pending = []
    report = progress or (lambda phase, done, total: None)
    # Every order is written before any workflow starts: once started, the worker's activities
    # compete for the database (on SQLite, its single write lock) with the import's own writes.
    for start in range(0, len(pending), BATCH_ORDERS):
        await asyncio.to_thread(
            _book_batch, write_session, pending[start : start + BATCH_ORDERS], user
        )
        report("booked", min(start + BATCH_ORDERS, len(pending)), len(pending))
    # None while Temporal is unreachable: the worker's outbox sweeper starts them instead.
    client = await temporal() if pending else None
    booked = [o.row for o in pending if o.row is not None and o.status == "booked"]
    for start in range(0, len(booked) if client else 0, START_CHUNK):
        assert client is not None
        await _start_chunk(client, booked[start : start + START_CHUNK], write_session, task_queue)
        report("started", min(start + START_CHUNK, len(booked)), len(booked))
    return _report(orders, sorted(errors, key=lambda e: e.row), rows, atomic)


def _report(
    orders: list[ParsedOrder], errors: list[RowError], rows: int, atomic: bool
) -> ImportReport:
    results = [
        OrderResult(
            external_ref=o.ref,
            rows=o.rows,
            status=o.status if o.status != "pending" else "not_booked",
            order_id=o.order_id,
        )
        for o in orders
    ]
    counts = {s: sum(r.status == s for r in results) for s in ("booked", "exists", "invalid")}
    if errors and atomic:
        detail = f"{len(errors)} error(s) in the file; nothing was booked (atomic import)"
    else:
        detail = (
            f"{counts['booked']} order(s) booked, {counts['exists']} already booked, "
            f"{counts['invalid']} with errors"
        )
    return ImportReport(
        detail=detail,
        atomic=atomic,
        rows=rows,
        orders=len(orders),
        booked=counts["booked"],
        existing=counts["exists"],
        invalid=counts["invalid"],
        errors=errors,
        results=results,
    )
