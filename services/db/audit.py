"""The audit trail is a hash chain per order: change or drop a row and the chain breaks there."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from services.db.models import OrderEventRow, OrderRow
from services.db.money import utc


def event_hash(
    prev_hash: str,
    *,
    order_id: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    from_state: str | None,
    to_state: str,
    reason: str | None,
    data: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical form of the event."""
    canonical = json.dumps(
        {
            "order_id": order_id,
            "seq": seq,
            "at": utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "reason": reason,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def hash_of_row(prev_hash: str, row: OrderEventRow) -> str:
    """The hash a stored event row should carry."""
    return event_hash(
        prev_hash,
        order_id=row.order_id,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        data=row.data,
    )


def previous_hash(conn: Connection, *, order_id: str, seq: int) -> str:
    """The hash of the event before `seq` ("" for the first)."""
    if seq == 0:
        return ""
    events = OrderEventRow.__table__  # type: ignore[attr-defined]
    stmt = core_select(events.c.hash).where(events.c.order_id == order_id, events.c.seq == seq - 1)
    prev = conn.execute(stmt).scalar()
    return str(prev) if prev else ""


@dataclass(frozen=True)
class Break:
    """Where the chain of an order first fails, and why."""

    order_id: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"order {self.order_id}, event seq {self.seq} (row {self.event_id}): {self.reason}"


def verify_order(session: Session, order: OrderRow) -> Break | None:
    """Recompute one order's chain; the first row that does not fit, if any."""
    rows = session.exec(
        select(OrderEventRow)
        .where(OrderEventRow.order_id == order.id)
        .order_by(col(OrderEventRow.seq))
    ).all()
    prev = ""
    for expected_seq, row in enumerate(rows):
        if row.seq != expected_seq:
            return Break(order.id, expected_seq, row.id, f"event seq {expected_seq} is missing")
        if row.prev_hash != prev:
            return Break(order.id, row.seq, row.id, "does not link to the event before it")
        if row.hash != hash_of_row(prev, row):
            return Break(order.id, row.seq, row.id, "content does not match its hash")
        prev = row.hash
    if len(rows) <= order.seq:
        return Break(order.id, len(rows), None, f"events after seq {len(rows) - 1} are missing")
    return None


def verify(
    session: Session, *, batch: int = 500, progress: Callable[[int, int], None] | None = None
) -> tuple[int, Break | None]:
    """Check every order's chain, oldest order first; (orders checked, first break).

    `progress(checked, total)` is told after each batch.
    """
    checked, offset = 0, 0
    total = int(session.exec(select(func.count()).select_from(OrderRow)).one())
    while True:
        if progress is not None:
            progress(checked, total)
        orders = session.exec(
            select(OrderRow)
            .order_by(col(OrderRow.created_at), col(OrderRow.id))
            .offset(offset)
            .limit(batch)
        ).all()
        if not orders:
            return checked, None
        for order in orders:
            checked += 1
            if (broken := verify_order(session, order)) is not None:
                return checked, broken
        offset += batch
