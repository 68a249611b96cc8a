"""Booking, looking up and listing orders, and their audit trail."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from schemas.orders import BookOrderRequest, EventPage, OrderPage, OrderState, OrderView
from services.api.deps import AnyRole, Reader, SalesOps, SessionDep, StateDep
from services.api.errors import ServiceUnavailable, invalid
from services.api.state import AppState
from services.db import orders_repo
from services.db.models import OrderRow
from services.orders_start import policy_of, start_order_workflow
from workflows.catalog import load_catalog
from workflows.ids import new_order_id

router = APIRouter(tags=["orders"])
log = logging.getLogger(__name__)


def _request_hash(body: BookOrderRequest) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_skus(body: BookOrderRequest) -> None:
    products = load_catalog().products
    for i, line in enumerate(body.lines):
        if line.sku not in products:
            known = ", ".join(sorted(products))
            raise invalid(("body", "lines", i, "sku"), f"unknown SKU '{line.sku}' (known: {known})")


def _book(
    state: AppState, body: BookOrderRequest, user: str, key: str | None
) -> tuple[OrderRow, bool]:
    """Insert the order, or return the one booked before under the same key."""
    digest = _request_hash(body)
    for _ in range(2):  # a lost race on the same key resolves on the second look
        with state.write_session() as session:
            if key and (
                prior := orders_repo.find_by_idempotency_key(session, created_by=user, key=key)
            ):
                if prior.request_hash != digest:
                    raise invalid(
                        ("header", "Idempotency-Key"),
                        "this key was already used for a different order body",
                    )
                return prior, False
            try:
                row = orders_repo.insert_order(
                    session,
                    order_id=new_order_id(),
                    booking=body,
                    created_by=user,
                    idempotency_key=key,
                    request_hash=digest,
                    now=datetime.now(UTC),
                )
                session.commit()
                return row, True
            except IntegrityError:
                session.rollback()
                if not key:
                    raise
    raise HTTPException(409, "concurrent booking with the same Idempotency-Key; retry")


@router.post("/orders", status_code=201, response_model=OrderView)
async def book_order(
    body: BookOrderRequest,
    user: SalesOps,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderView:
    """Book an order (sales ops). Replaying the same Idempotency-Key returns the same order."""
    _check_skus(body)
    row, created = await run_in_threadpool(_book, state, body, user.user, idempotency_key)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/orders/{row.id}"
    if not row.workflow_started:
        await _start_or_leave_for_outbox(state, row)
    return orders_repo.to_view(row)


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


@router.get("/orders/{order_id}", response_model=OrderView)
async def get_order(order_id: str, _: Reader, request: Request) -> Response:
    """An order's state, what it waits for, determination, screening, license and totals."""
    state: AppState = request.app.state.exportflow
    body = orders_repo.rendered_view(state.engine, order_id, state.views)
    if body is None:
        raise HTTPException(404, f"no order {order_id}")
    return Response(body, media_type="application/json")


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    _: AnyRole,
    session: SessionDep,
    state: OrderState | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    destination: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="customer")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    """Orders, newest first, filtered; follow `next_cursor` for the next page."""
    filters = orders_repo.OrderFilter(
        state=state, sku=sku, destination=destination.upper() if destination else None, q=q
    )
    try:
        rows, next_cursor = orders_repo.list_orders(
            session, filters=filters, cursor=cursor, limit=limit
        )
    except ValueError as exc:
        raise invalid(("query", "cursor"), str(exc)) from exc
    return OrderPage(items=[orders_repo.to_view(r) for r in rows], next_cursor=next_cursor)


@router.get("/orders/{order_id}/events", response_model=EventPage)
async def order_events(order_id: str, _: AnyRole, session: SessionDep) -> EventPage:
    """The audit trail: every transition and action with actor, time, states and reason."""
    if orders_repo.get_order(session, order_id) is None:
        raise HTTPException(404, f"no order {order_id}")
    return EventPage(items=orders_repo.list_events(session, order_id=order_id))
