"""Records: the full export record of an order, legal holds and retention-bound deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from schemas.actions import ReasonBody
from schemas.orders import OrderView
from services.api.deps import AnyRole, Compliance, StateDep
from services.db import orders_repo
from services.ops.errors import NotFound, conflict
from services.ops.state import AppState
from services.records import RecordError, delete_record, order_record, record_csv, set_legal_hold

router = APIRouter(tags=["records"])


@router.get(
    "/orders/{order_id}/record",
    response_model=None,
    responses={
        200: {
            "description": "The record: JSON, or `field,value` rows with `format=csv`",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def get_record(
    order_id: str,
    _: AnyRole,
    state: StateDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> dict[str, Any] | Response:
    """Order, parties, screening evidence with list snapshot hash, determinations, approvals,
    license ledger, shipment and the hash-chained audit trail; JSON or CSV."""
    record = await state.read(lambda session: order_record(session, order_id=order_id))
    if record is None:
        raise HTTPException(404, f"no order {order_id}")
    if format == "csv":
        return PlainTextResponse(
            record_csv(record),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{order_id}.csv"'},
        )
    return record


async def _hold(state: AppState, order_id: str, hold: bool, user: str, reason: str) -> OrderView:
    def write(session: Session) -> OrderView:
        row = set_legal_hold(
            session, order_id=order_id, hold=hold, actor=user, reason=reason, now=datetime.now(UTC)
        )
        return orders_repo.to_view(row)

    try:
        return await state.write(write)
    except KeyError:
        raise NotFound(f"no order {order_id}") from None


@router.post("/orders/{order_id}/legal-hold", response_model=OrderView)
async def place_legal_hold(
    order_id: str, body: ReasonBody, user: Compliance, state: StateDep
) -> OrderView:
    """Compliance: an agency asked for this record; it must not be destroyed."""
    return await _hold(state, order_id, True, user.user, body.reason)


@router.delete("/orders/{order_id}/legal-hold", response_model=OrderView)
async def lift_legal_hold(
    order_id: str,
    user: Compliance,
    state: StateDep,
    reason: Annotated[str, Query(min_length=1, max_length=2000)],
) -> OrderView:
    """Compliance: lift a legal hold."""
    return await _hold(state, order_id, False, user.user, reason)


@router.delete("/orders/{order_id}/record", status_code=204)
async def delete_order_record(order_id: str, _: Compliance, state: StateDep) -> Response:
    """Compliance: delete a record after its retention date; refused under legal hold."""
    today = datetime.now(UTC).date()
    try:
        await state.write(lambda session: delete_record(session, order_id=order_id, today=today))
    except KeyError:
        raise NotFound(f"no order {order_id}") from None
    except RecordError as exc:
        raise conflict(str(exc)) from exc
    return Response(status_code=204)
