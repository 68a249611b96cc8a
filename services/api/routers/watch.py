"""Waiting for an order's next change: a long poll instead of a client polling loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from schemas.orders import OrderView
from services.api.deps import Reader
from services.ops.state import AppState

router = APIRouter(tags=["orders"])

MAX_WAIT_SECONDS = 30.0


@router.get("/orders/{order_id}/watch", response_model=OrderView)
async def watch_order(
    order_id: str,
    _: Reader,
    request: Request,
    after_seq: Annotated[
        int, Query(ge=-1, le=2**31, description="answer once the order's `seq` exceeds this")
    ],
    timeout: Annotated[
        float, Query(gt=0, le=MAX_WAIT_SECONDS, description="seconds to wait at most")
    ] = 20.0,
) -> Response:
    """The order as soon as it changes after `after_seq`, or as it is when `timeout` ends.

    Compare the answer's `seq` with `after_seq` to tell a change from a timeout.
    """
    state: AppState = request.app.state.exportflow
    found = await state.lookups.current(order_id)
    if found is None:
        raise HTTPException(404, f"no order {order_id}")
    if found[0] > after_seq:
        return Response(found[1], media_type="application/json")
    await state.watcher.wait(order_id, after_seq, timeout)
    body = await state.lookups.view(order_id)
    if body is None:
        raise HTTPException(404, f"no order {order_id}")
    return Response(body, media_type="application/json")
