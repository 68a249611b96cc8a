"""Repository functions for orders, their lines and their audit trail."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from schemas.orders import (
    BookOrderRequest,
    OrderEvent,
    OrderLineView,
    OrderState,
    OrderStatus,
    OrderView,
)
from schemas.workflow_io import TransitionRecord
from services.db import audit, changes_repo
from services.db.models import OrderEventRow, OrderLineRow, OrderRow
from services.db.money import from_cents, to_cents, utc
from workflows.rules.license_input import order_draw
from workflows.rules.retention import RETENTION_STARTS, retention_until
from workflows.rules.shipments import shipped_per_line
from workflows.rules.transitions import waiting_for

_EVENTS = OrderEventRow.__table__  # type: ignore[attr-defined]
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_LINES = OrderLineRow.__table__  # type: ignore[attr-defined]


def insert_order(
    session: Session,
    *,
    order_id: str,
    booking: BookOrderRequest,
    created_by: str,
    idempotency_key: str | None,
    request_hash: str,
    now: datetime,
) -> OrderRow:
    """Book an order: its row, its lines and the first audit event, in one transaction.

    Core inserts on the session's connection (inside its transaction, so a duplicate key
    raises here); the returned row is not attached to the session.
    """
    quantity, value = order_draw(booking)
    status = OrderStatus(state=OrderState.BOOKED, waiting_for=waiting_for(OrderState.BOOKED))
    row = OrderRow(
        id=order_id,
        external_ref=booking.external_ref,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        state=OrderState.BOOKED,
        state_entered_at=now,
        destination=booking.consignee().country,
        purchaser_name=booking.purchaser.name,
        end_user_name=booking.end_user.name,
        total_value_cents=to_cents(value),
        total_quantity=quantity,
        booking=booking.model_dump(mode="json"),
        status=status.model_dump(mode="json"),
    )
    conn = session.connection()
    conn.execute(_ORDERS.insert().values(row.model_dump() | {"state": OrderState.BOOKED.value}))
    conn.execute(_LINES.insert(), _line_rows(order_id, booking))
    event: dict[str, Any] = {
        "order_id": order_id,
        "seq": 0,
        "at": now,
        "actor": created_by,
        "action": "book",
        "from_state": None,
        "to_state": OrderState.BOOKED.value,
        "reason": None,
        "data": {"external_ref": booking.external_ref} if booking.external_ref else {},
    }
    chained = event | {"prev_hash": "", "hash": audit.event_hash("", **event)}
    # Last statement before the commit: the feed position's lock is held only from here.
    chained["position"] = changes_repo.next_position(conn)
    conn.execute(_EVENTS.insert().values(chained))
    return row


def find_by_idempotency_key(session: Session, *, created_by: str, key: str) -> OrderRow | None:
    """The order a user booked with this Idempotency-Key, if any."""
    stmt = select(OrderRow).where(
        OrderRow.created_by == created_by, OrderRow.idempotency_key == key
    )
    return session.exec(stmt).first()


def get_order(session: Session, order_id: str) -> OrderRow | None:
    """One order by id."""
    return session.get(OrderRow, order_id)


def mark_workflow_started(session: Session, *, order_id: str) -> None:
    """Note that the order's workflow runs, so the outbox sweeper leaves it alone."""
    session.execute(
        update(OrderRow).where(col(OrderRow.id) == order_id).values(workflow_started=True)
    )


def mark_workflows_started(session: Session, *, order_ids: list[str]) -> None:
    """`mark_workflow_started` for many orders in one statement (bulk import)."""
    if order_ids:
        stmt = update(OrderRow).where(col(OrderRow.id).in_(order_ids))
        session.execute(stmt.values(workflow_started=True))


def unstarted_orders(session: Session, *, booked_before: datetime, limit: int = 100) -> list[str]:
    """Orders accepted while Temporal was unreachable, oldest first."""
    stmt = (
        select(OrderRow.id)
        .where(col(OrderRow.workflow_started).is_(False), OrderRow.created_at < booked_before)
        .order_by(col(OrderRow.created_at))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def _line_rows(order_id: str, booking: BookOrderRequest) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price_cents": to_cents(line.unit_price),
        }
        for line in booking.lines
    ]


def _booking_values(booking: BookOrderRequest) -> dict[str, Any]:
    """The columns an amended booking changes."""
    quantity, value = order_draw(booking)
    return {
        "booking": booking.model_dump(mode="json"),
        "destination": booking.consignee().country,
        "purchaser_name": booking.purchaser.name,
        "end_user_name": booking.end_user.name,
        "total_value_cents": to_cents(value),
        "total_quantity": quantity,
    }


def _insert_ignore(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def record_transition(session: Session, rec: TransitionRecord) -> bool:
    """Append the event and move the read model forward; a replay of the same seq is a no-op."""
    values = rec.model_dump(mode="json", include={"order_id", "seq", "actor", "action", "reason"})
    values |= {
        "at": rec.at,
        "from_state": rec.from_state.value if rec.from_state else None,
        "to_state": rec.to_state.value,
        "data": rec.data,
    }
    # The worker's write per step: Core statements on the session's connection (inside its
    # transaction), without the ORM's per-statement bookkeeping.
    conn = session.connection()
    prev = audit.previous_hash(conn, order_id=rec.order_id, seq=rec.seq)
    values |= {"prev_hash": prev, "hash": audit.event_hash(prev, **values)}
    model = _read_model_values(rec)
    if rec.booking is not None:
        model |= _booking_values(rec.booking)
    moved = conn.execute(
        _ORDERS.update()
        .where(_ORDERS.c.id == rec.order_id, _ORDERS.c.seq < rec.seq)
        .values(**model)
    )
    if rec.booking is not None and moved.rowcount == 1:
        # The lines follow the booking (lists filter by SKU); only when this write moved it.
        conn.execute(_LINES.delete().where(_LINES.c.order_id == rec.order_id))
        conn.execute(_LINES.insert(), _line_rows(rec.order_id, rec.booking))
    # The event last: its feed position holds the feed's lock until the commit (changes_repo).
    # A replayed seq inserts nothing and leaves a gap in positions, which the feed skips.
    values["position"] = changes_repo.next_position(conn)
    insert = _insert_ignore(session)
    stmt = insert(_EVENTS).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["order_id", "seq"])
    return int(conn.execute(stmt).rowcount) == 1


def _read_model_values(rec: TransitionRecord) -> dict[str, Any]:
    status = rec.status
    det = status.determination
    values: dict[str, Any] = {
        "seq": rec.seq,
        "state": status.state.value,
        "waiting_role": status.waiting_for.role.value if status.waiting_for else None,
        "updated_at": rec.at,
        "license_required": det.license_required if det else None,
        "ruleset_version": det.ruleset_version if det else None,
        "screened_snapshot_id": status.screening.snapshot_id if status.screening else None,
        "due_at": status.due_at,
        "status": status.model_dump(mode="json"),
        "workflow_started": True,
    }
    if rec.from_state is not rec.to_state:
        values["state_entered_at"] = rec.at
    if rec.to_state in RETENTION_STARTS:
        # Each later qualifying event restarts the five years (the latest of them counts).
        values["retention_until"] = retention_until(rec.to_state, rec.at.date(), None)
    return values


@dataclass(frozen=True)
class OrderFilter:
    """Filters of the order list; all optional."""

    state: OrderState | None = None
    sku: str | None = None
    destination: str | None = None
    q: str | None = None


def _encode_cursor(row: Any) -> str:
    raw = json.dumps([utc(row.created_at).isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) position a cursor points after; ValueError when malformed."""
    try:
        created, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created), str(order_id)
    except Exception as exc:  # any garbage in a cursor is the client's error
        raise ValueError("cursor is not one this API returned") from exc


# What the order book shows of an order: a few columns and the SKUs of its lines, in one
# query. The whole order (booking and status JSON) is `GET /orders/{id}`'s: rendering 50 full
# views took ~15 ms of CPU per page.
_SKUS = (
    core_select(func.aggregate_strings(_LINES.c.sku, ","))
    .where(_LINES.c.order_id == _ORDERS.c.id)
    .scalar_subquery()
    .label("skus")
)
_SUMMARY = core_select(
    _ORDERS.c.id,
    _ORDERS.c.external_ref,
    _ORDERS.c.state,
    _ORDERS.c.waiting_role,
    _ORDERS.c.purchaser_name,
    _ORDERS.c.end_user_name,
    _ORDERS.c.destination,
    _ORDERS.c.total_quantity,
    _ORDERS.c.total_value_cents,
    _ORDERS.c.created_at,
    _ORDERS.c.updated_at,
    _SKUS,
)


def to_summary(row: Any) -> dict[str, Any]:
    """A row of `_SUMMARY` as `OrderSummary` JSON, ready to serialise (~3 µs a row)."""
    # Plain values, as pydantic would serialise them: built and validated as models, a page
    # of 50 cost more than the query behind it. `OrderSummary` documents the shape and
    # tests/api/test_queries.py validates the API's answers against it.
    oid, ref, state, role, buyer, end_user, dest, quantity, cents, created, updated, skus = row
    return {
        "id": oid,
        "external_ref": ref,
        "state": state,
        "waiting_role": role,
        "purchaser": buyer,
        "end_user": end_user,
        "destination": dest,
        "skus": sorted(set(skus.split(","))) if skus else [],
        "total_quantity": quantity,
        "total_value": f"{cents // 100}.{cents % 100:02d}",
        "created_at": _iso(created),
        "updated_at": _iso(updated),
    }


def _iso(value: datetime) -> str:
    # As pydantic writes an aware UTC datetime; SQLite hands back naive ones (stored as UTC).
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def list_orders(
    session: Session, *, filters: OrderFilter, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Summaries, newest first, keyset-paginated so deep pages stay as fast as the first."""
    stmt = _SUMMARY.where(*filter_clauses(filters))
    if cursor:
        created, order_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                col(OrderRow.created_at) < created,
                (col(OrderRow.created_at) == created) & (col(OrderRow.id) < order_id),
            )
        )
    stmt = stmt.order_by(col(OrderRow.created_at).desc(), col(OrderRow.id).desc()).limit(limit + 1)
    rows = session.connection().execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [to_summary(r) for r in rows], (_encode_cursor(rows[-1]) if more and rows else None)


def list_events(session: Session, *, order_id: str) -> list[OrderEvent]:
    """The order's audit trail, oldest first."""
    stmt = (
        select(OrderEventRow)
        .where(OrderEventRow.order_id == order_id)
        .order_by(col(OrderEventRow.seq))
    )
    return [
        OrderEvent(
            seq=e.seq,
            at=utc(e.at),
            actor=e.actor,
            action=e.action,
            from_state=OrderState(e.from_state) if e.from_state else None,
            to_state=OrderState(e.to_state),
            reason=e.reason,
            data=e.data,
        )
        for e in session.exec(stmt).all()
    ]


def tasks_for_role(session: Session, *, role: str, limit: int) -> list[OrderRow]:
    """Orders waiting on a role, the longest-waiting first."""
    stmt = (
        select(OrderRow)
        .where(OrderRow.waiting_role == role)
        .order_by(col(OrderRow.state_entered_at), col(OrderRow.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def to_view(row: OrderRow) -> OrderView:
    """The API's view of an order row."""
    booking = BookOrderRequest.model_validate(row.booking)
    status = OrderStatus.model_validate(row.status)
    return OrderView(
        id=row.id,
        seq=row.seq,
        external_ref=row.external_ref,
        state=OrderState(row.state),
        held_from=status.held_from,
        waiting_for=status.waiting_for,
        license_required=row.license_required,
        determination=status.determination,
        screening=status.screening,
        license=status.license,
        application=status.application,
        approvals=status.approvals,
        approvals_needed=status.approvals_needed,
        due_at=status.due_at,
        overdue=status.overdue,
        shipment=status.shipment,
        shipments=status.all_shipments(),
        split_from=status.split_from,
        split_into=status.split_into,
        license_hold=status.license_hold,
        purchaser=booking.purchaser,
        end_user=booking.end_user,
        ultimate_consignee=booking.ultimate_consignee,
        intermediate_consignees=booking.intermediate_consignees,
        ship_from=booking.ship_from,
        end_use=booking.end_use,
        lines=_line_views(booking, status),
        requested_ship_date=booking.requested_ship_date,
        total_value=from_cents(row.total_value_cents),
        total_quantity=row.total_quantity,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        retention_until=row.retention_until,
        legal_hold=row.legal_hold,
    )


def _line_views(booking: BookOrderRequest, status: OrderStatus) -> list[OrderLineView]:
    shipped = shipped_per_line(booking, status.all_shipments())
    return [
        OrderLineView(
            sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, shipped=gone
        )
        for line, gone in zip(booking.lines, shipped, strict=True)
    ]


def filter_clauses(filters: OrderFilter) -> list[Any]:
    """The WHERE clauses of an order filter, for queries other than `list_orders`."""
    clauses: list[Any] = []
    if filters.state:
        clauses.append(OrderRow.state == filters.state.value)
    if filters.destination:
        clauses.append(OrderRow.destination == filters.destination)
    if filters.sku:
        line = select(OrderLineRow.id).where(
            OrderLineRow.order_id == OrderRow.id, OrderLineRow.sku == filters.sku
        )
        clauses.append(exists(line))
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        clauses.append(
            or_(
                col(OrderRow.purchaser_name).ilike(pattern),
                col(OrderRow.end_user_name).ilike(pattern),
                col(OrderRow.external_ref).ilike(pattern),
            )
        )
    return clauses


SORT_KEYS: dict[str, Any] = {
    "created": OrderRow.created_at,
    "updated": OrderRow.updated_at,
    "state": OrderRow.state,
    "destination": OrderRow.destination,
    "purchaser": OrderRow.purchaser_name,
    "end_user": OrderRow.end_user_name,
    "value": OrderRow.total_value_cents,
    "quantity": OrderRow.total_quantity,
    "ref": OrderRow.external_ref,
}


def page_orders(
    session: Session,
    *,
    filters: OrderFilter,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of summaries in any `SORT_KEYS` order, and how many match (page numbers)."""
    clauses = filter_clauses(filters)
    key = col(SORT_KEYS[sort])
    tie = col(OrderRow.id)
    order = (key.desc(), tie.desc()) if descending else (key.asc(), tie.asc())
    stmt = _SUMMARY.where(*clauses).order_by(*order).offset(offset).limit(limit)
    total = session.exec(select(func.count()).select_from(OrderRow).where(*clauses)).one()
    rows = session.connection().execute(stmt).all()
    return [to_summary(r) for r in rows], int(total)


def totals_by_state(
    session: Session, *, filters: OrderFilter
) -> dict[OrderState, tuple[int, Decimal]]:
    """Count and value (USD) of the matching orders in each state that has any."""
    stmt = (
        select(OrderRow.state, func.count(), func.sum(OrderRow.total_value_cents))
        .where(*filter_clauses(filters))
        .group_by(OrderRow.state)
    )
    return {
        OrderState(state): (int(count), from_cents(int(cents or 0)))
        for state, count, cents in session.exec(stmt).all()
    }


def find_by_external_refs(
    session: Session, *, created_by: str, refs: list[str]
) -> dict[str, OrderRow]:
    """The orders a user booked under these external refs (the first booked, per ref)."""
    found: dict[str, OrderRow] = {}
    for start in range(0, len(refs), 500):  # keep IN lists well under parameter limits
        stmt = (
            select(OrderRow)
            .where(
                OrderRow.created_by == created_by,
                col(OrderRow.external_ref).in_(refs[start : start + 500]),
            )
            .order_by(col(OrderRow.created_at))
        )
        for row in session.exec(stmt).all():
            assert row.external_ref is not None
            found.setdefault(row.external_ref, row)
    return found
