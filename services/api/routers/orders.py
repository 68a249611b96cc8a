"""Booking, looking up and listing orders, and their audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from schemas.orders import BookOrderRequest, EventPage, OrderPage, OrderState, OrderView
from services.api.deps import AnyRole, Reader, SalesOps, StateDep
from services.db import orders_repo
from services.ops import orders
from services.ops.state import AppState

router = APIRouter(tags=["orders"])


@router.post("/orders", status_code=201, response_model=OrderView)
async def book_order(
    body: BookOrderRequest,
    user: SalesOps,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderView:
    """Book an order (sales ops). Replaying the same Idempotency-Key returns the same order."""
    view, created = await orders.book_order(state, body, user=user.user, key=idempotency_key)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/orders/{view.id}"
    return view


@router.get("/orders/{order_id}", response_model=OrderView)
async def get_order(order_id: str, _: Reader, request: Request) -> Response:
    """An order's state, what it waits for, determination, screening, license and totals."""
    state: AppState = request.app.state.exportflow
    return Response(await orders.order_view(state, order_id), media_type="application/json")


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    _: AnyRole,
    state_: StateDep,
    state: OrderState | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    destination: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="customer")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Orders as the order book lists them, newest first, filtered; follow `next_cursor`."""
    filters = orders_repo.OrderFilter(
        state=state, sku=sku, destination=destination.upper() if destination else None, q=q
    )
    page = await orders.order_page(state_, filters=filters, cursor=cursor, limit=limit)
    return Response(page, media_type="application/json")


@router.get("/orders/{order_id}/events", response_model=EventPage)
async def order_events(order_id: str, _: AnyRole, state: StateDep) -> EventPage:
    """The audit trail: every transition and action with actor, time, states and reason."""
    return await orders.events(state, order_id)
