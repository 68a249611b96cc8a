"""The remainder of a partially approved order, booked as an order of its own."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from schemas.workflow_io import SplitRequest
from services.db import audit, changes_repo
from services.db.models import OrderEventRow, OrderLineRow, OrderRow
from services.db.money import to_cents
from workflows.rules.license_input import order_draw

_EVENTS = OrderEventRow.__table__  # type: ignore[attr-defined]
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_LINES = OrderLineRow.__table__  # type: ignore[attr-defined]


def insert_split(session: Session, req: SplitRequest) -> bool:
    """Book the remainder: its row (already awaiting its license), lines and first event.

    Idempotent by the remainder's order id (derived from the original's); False when it is
    booked already. Marked started: the original's workflow starts the remainder's.
    """
    if session.get(OrderRow, req.order_id) is not None:
        return False
    quantity, value = order_draw(req.booking)
    status, det = req.status, req.status.determination
    booking_json = req.booking.model_dump(mode="json")
    row = OrderRow(
        id=req.order_id,
        external_ref=req.booking.external_ref,
        request_hash=hashlib.sha256(json.dumps(booking_json, sort_keys=True).encode()).hexdigest(),
        created_by=req.created_by,
        created_at=req.at,
        updated_at=req.at,
        state=status.state.value,
        waiting_role=status.waiting_for.role.value if status.waiting_for else None,
        state_entered_at=req.at,
        destination=req.booking.consignee().country,
        purchaser_name=req.booking.purchaser.name,
        end_user_name=req.booking.end_user.name,
        total_value_cents=to_cents(value),
        total_quantity=quantity,
        license_required=det.license_required if det else None,
        booking=booking_json,
        status=status.model_dump(mode="json"),
        workflow_started=True,
        screened_snapshot_id=status.screening.snapshot_id if status.screening else None,
        ruleset_version=det.ruleset_version if det else None,
        due_at=status.due_at,
    )
    conn = session.connection()
    conn.execute(_ORDERS.insert().values(row.model_dump()))
    lines = [
        {
            "order_id": req.order_id,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price_cents": to_cents(line.unit_price),
        }
        for line in req.booking.lines
    ]
    conn.execute(_LINES.insert(), lines)
    event: dict[str, Any] = {
        "order_id": req.order_id,
        "seq": 0,
        "at": req.at,
        "actor": req.actor,
        "action": "split-from",
        "from_state": None,
        "to_state": status.state.value,
        "reason": req.reason or f"the part of {req.split_from} that BIS has not approved",
        "data": {
            "split_from": req.split_from,
            "split_at_seq": req.parent_seq,
            "lines": [line.model_dump(mode="json") for line in req.booking.lines],
        },
    }
    chained = event | {"prev_hash": "", "hash": audit.event_hash("", **event)}
    # Last statement before the commit: the feed position's lock is held only from here.
    chained["position"] = changes_repo.next_position(conn)
    conn.execute(_EVENTS.insert().values(chained))
    return True
