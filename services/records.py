"""An order's full export record (EAR Part 762), its retention and legal hold."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.csvout import csv_text
from services.db import documents_repo, orders_repo
from services.db.licenses_view import get_license
from services.db.models import (
    DocumentRow,
    LicenseLedgerRow,
    LicenseLineRow,
    OrderEventRow,
    OrderLineRow,
    OrderRow,
    ScreeningSnapshotRow,
)
from services.db.money import from_cents, utc


class RecordError(Exception):
    """A records request that must be refused, with the reason."""


def order_record(session: Session, *, order_id: str) -> dict[str, Any] | None:
    """Everything an auditor needs about one order, years later."""
    row = orders_repo.get_order(session, order_id)
    if row is None:
        return None
    view = orders_repo.to_view(row)
    events = session.exec(
        select(OrderEventRow)
        .where(OrderEventRow.order_id == order_id)
        .order_by(col(OrderEventRow.seq))
    ).all()
    ledger = session.exec(
        select(LicenseLedgerRow)
        .where(LicenseLedgerRow.order_id == order_id)
        .order_by(col(LicenseLedgerRow.id))
    ).all()
    lines = {
        r.id: r.line_no
        for r in session.exec(
            select(LicenseLineRow).where(col(LicenseLineRow.id).in_({e.line_id for e in ledger}))
        ).all()
    }
    snapshot = None
    if view.screening and view.screening.snapshot_id:
        snap = session.get(ScreeningSnapshotRow, view.screening.snapshot_id)
        if snap is not None:
            snapshot = {
                "id": snap.id,
                "file_name": snap.file_name,
                "row_count": snap.row_count,
                "content_hash": snap.content_hash,
                "imported_by": snap.imported_by,
                "imported_at": utc(snap.imported_at).isoformat(),
            }
    license = get_license(session, number=view.license.license_number) if view.license else None
    return {
        "order": view.model_dump(mode="json"),
        "screening_snapshot": snapshot,
        "license": license.model_dump(mode="json", exclude={"orders", "ledger"})
        if license
        else None,
        "license_ledger": [
            {
                "kind": e.kind,
                "license_number": e.license_number,
                "license_line": lines.get(e.line_id),
                "sku": e.sku,
                "quantity": e.quantity,
                "value": str(from_cents(e.value_cents)),
                "actor": e.actor,
                "reason": e.reason,
                "itn": e.itn,
                "at": utc(e.at).isoformat(),
            }
            for e in ledger
        ],
        "events": [
            {
                "seq": e.seq,
                "at": utc(e.at).isoformat(),
                "actor": e.actor,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
        "documents": [
            d.model_dump(mode="json")
            for d in documents_repo.list_documents(session, order_id=order_id)
        ],
        "retention_until": row.retention_until.isoformat() if row.retention_until else None,
        "legal_hold": row.legal_hold,
        "legal_hold_reason": row.legal_hold_reason,
    }


def _flatten(value: Any, prefix: str, out: list[tuple[str, object]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out.append((prefix, value))


def record_csv(record: dict[str, Any]) -> str:
    """The record as `field,value` rows: every leaf of the JSON record, by its path."""
    rows: list[tuple[str, object]] = [("field", "value")]
    _flatten(record, "", rows)
    return csv_text(rows)


def set_legal_hold(
    session: Session, *, order_id: str, hold: bool, actor: str, reason: str, now: datetime
) -> OrderRow:
    """Put a record under legal hold (it cannot be deleted) or lift the hold."""
    row = orders_repo.get_order(session, order_id)
    if row is None:
        raise KeyError(order_id)
    row.legal_hold = hold
    row.legal_hold_reason = (
        f"{'held' if hold else 'released'} by {actor} at "
        f"{now.isoformat(timespec='seconds')}: {reason}"
    )
    session.add(row)
    return row


def check_deletable(row: OrderRow, *, today: date) -> None:
    """Refuse deletion under legal hold or before the retention date."""
    if row.legal_hold:
        raise RecordError(f"order {row.id} is under legal hold ({row.legal_hold_reason})")
    if row.retention_until is None:
        raise RecordError(f"order {row.id} is still open; its retention period has not started")
    if row.retention_until > today:
        raise RecordError(
            f"order {row.id} must be kept until {row.retention_until.isoformat()} (EAR 762)"
        )


def delete_record(session: Session, *, order_id: str, today: date) -> None:
    """Delete an order's record once retention is over and no hold applies."""
    row = orders_repo.get_order(session, order_id)
    if row is None:
        raise KeyError(order_id)
    check_deletable(row, today=today)
    for table in (OrderEventRow, OrderLineRow, DocumentRow):
        session.execute(delete(table).where(col(table.order_id) == order_id))
    session.delete(row)


def purgeable(session: Session, *, today: date, limit: int = 1000) -> list[str]:
    """Orders whose retention is over and that are not on legal hold (those `check_deletable`
    lets go: from the retention date on)."""
    stmt = (
        select(OrderRow.id)
        .where(col(OrderRow.retention_until) <= today, col(OrderRow.legal_hold).is_(False))
        .limit(limit)
    )
    return list(session.exec(stmt).all())
