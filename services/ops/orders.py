"""Orders: book, look up, list, audit trail and work queue; for the API routes and the console."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.service import RPCError

from schemas.common import Role
from schemas.orders import (
    BookOrderRequest,
    EventPage,
    OrderState,
    OrderView,
    Task,
    TaskPage,
)
from services.db import orders_repo
from services.db.models import OrderRow
from services.db.money import from_cents, utc
from services.ops.errors import InvalidInput, NotFound, ServiceUnavailable, conflict
from services.ops.state import AppState
from services.orders_start import policy_of, start_order_workflow
from workflows.catalog import load_catalog
from workflows.ids import new_order_id

log = logging.getLogger(__name__)


async def order_view(state: AppState, order_id: str) -> bytes:
    """The order as JSON (`OrderView`), as it is in the database now."""
    body = await state.lookups.view(order_id)
    if body is None:
        raise NotFound(f"no order {order_id}")
    return body


async def order_dict(state: AppState, order_id: str) -> dict[str, Any]:
    """`order_view` decoded, for pages that show it."""
    found: dict[str, Any] = json.loads(await order_view(state, order_id))
    return found


async def order_page(
    state: AppState, *, filters: orders_repo.OrderFilter, cursor: str | None, limit: int
) -> bytes:
    """Newest first, filtered, keyset-paginated: an `OrderPage` as JSON."""

    def read(session: Session) -> tuple[list[dict[str, Any]], str | None]:
        try:
            return orders_repo.list_orders(session, filters=filters, cursor=cursor, limit=limit)
        except ValueError as exc:
            raise InvalidInput(("query", "cursor"), str(exc)) from exc

    async def page() -> bytes:
        items, next_cursor = await state.read(read)
        return json.dumps({"items": items, "next_cursor": next_cursor}).encode()

    # Clients asking for the same page at the same time share one query (services/ops/coalesce).
    return await state.pages.run((filters, cursor, limit), page)


@dataclass(frozen=True)
class BookPage:
    """A numbered page of the order book, how many orders match, and totals by state."""

    items: list[dict[str, Any]]  # `OrderSummary` JSON
    total: int
    by_state: list[tuple[OrderState, int, Decimal]]  # count and value, any state filter aside


async def book_page(
    state: AppState,
    *,
    filters: orders_repo.OrderFilter,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> BookPage:
    """A numbered page in any sort order, with totals by state (the console's order book)."""

    def read(session: Session) -> BookPage:
        items, total = orders_repo.page_orders(
            session, filters=filters, sort=sort, descending=descending, offset=offset, limit=limit
        )
        totals = orders_repo.totals_by_state(session, filters=replace(filters, state=None))
        by_state = [(s, *totals[s]) for s in OrderState if s in totals]
        return BookPage(items=items, total=total, by_state=by_state)

    return await state.read(read)


async def events(state: AppState, order_id: str) -> EventPage:
    """The order's audit trail, oldest first."""

    def read(session: Session) -> EventPage | None:
        if orders_repo.get_order(session, order_id) is None:
            return None
        return EventPage(items=orders_repo.list_events(session, order_id=order_id))

    page = await state.read(read)
    if page is None:
        raise NotFound(f"no order {order_id}")
    return page


async def tasks(state: AppState, *, role: Role, limit: int) -> TaskPage:
    """Orders waiting on `role`, the longest-waiting first."""
    rows = await state.read(
        lambda session: orders_repo.tasks_for_role(session, role=role.value, limit=limit)
    )
    now = datetime.now(UTC)
    return TaskPage(items=[_task(row, role, now) for row in rows])


def _task(row: OrderRow, role: Role, now: datetime) -> Task:
    waiting = (row.status or {}).get("waiting_for") or {}
    return Task(
        order_id=row.id,
        state=OrderState(row.state),
        actions=list(waiting.get("actions", [])),
        role=role,
        waiting_since=utc(row.state_entered_at),
        due_at=utc(row.due_at) if row.due_at else None,
        overdue=bool((row.status or {}).get("overdue"))
        or (row.due_at is not None and utc(row.due_at) < now),
        purchaser=row.purchaser_name,
        end_user=row.end_user_name,
        destination=row.destination,
        total_value=from_cents(row.total_value_cents),
    )


def request_hash(body: BookOrderRequest) -> str:
    """What an Idempotency-Key is bound to: the booking's canonical JSON."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_skus(body: BookOrderRequest) -> None:
    """Every line names a product of the catalog (else 422 naming the line)."""
    products = load_catalog().products
    for i, line in enumerate(body.lines):
        if line.sku not in products:
            known = ", ".join(sorted(products))
            message = f"unknown SKU '{line.sku}' (known: {known})"
            raise InvalidInput(("body", "lines", i, "sku"), message)


def _book_in(
    session: Session, body: BookOrderRequest, user: str, key: str | None, digest: str
) -> tuple[OrderRow, bool]:
    if key and (prior := orders_repo.find_by_idempotency_key(session, created_by=user, key=key)):
        if prior.request_hash != digest:
            raise InvalidInput(
                ("header", "Idempotency-Key"),
                "this key was already used for a different order body",
            )
        return prior, False
    row = orders_repo.insert_order(
        session,
        order_id=new_order_id(),
        booking=body,
        created_by=user,
        idempotency_key=key,
        request_hash=digest,
        now=datetime.now(UTC),
    )
    return row, True


async def book_order(
    state: AppState, body: BookOrderRequest, *, user: str, key: str | None
) -> tuple[OrderView, bool]:
    """Book an order, or return the one booked before under the same key; (view, created)."""
    check_skus(body)
    digest = request_hash(body)
    for _ in range(2):  # a lost race on the same key resolves on the second look
        try:
            row, created = await state.write(
                lambda session: _book_in(session, body, user, key, digest)
            )
        except IntegrityError:
            if not key:
                raise
            continue
        if not row.workflow_started:
            await _start_or_leave_for_outbox(state, row)
        return orders_repo.to_view(row), created
    raise conflict("concurrent booking with the same Idempotency-Key; retry")


async def _start_or_leave_for_outbox(state: AppState, row: OrderRow) -> None:
    # The order is already durably booked. If Temporal is down, the worker's outbox sweeper
    # starts the workflow once it is back: the booking is accepted, not lost.
    try:
        client = await state.temporal_client()
        await start_order_workflow(
            client, row, task_queue=state.settings.task_queue, policy=policy_of(state.settings)
        )
    except (ServiceUnavailable, RPCError) as exc:
        log.warning("order %s booked; workflow start deferred: %s", row.id, exc)
    # Started: the workflow's first transition marks the row (`workflow_started`), so the
    # booking costs one write. Until then the sweeper's start is a no-op (same workflow id).
