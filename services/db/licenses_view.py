"""Read side of licenses: one license with its ledger, and the license list."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from schemas.licenses import (
    LedgerEntry,
    LicenseOrder,
    LicensePage,
    LicenseSummary,
    LicenseView,
    ObligationView,
)
from services.db.licenses_repo import COMMIT, RELEASE, RESERVE, usage
from services.db.models import LicenseLedgerRow, LicenseRow, ObligationRow
from services.db.money import from_cents, utc


def _orders(entries: list[LicenseLedgerRow]) -> list[LicenseOrder]:
    by_order: dict[str, list[LicenseLedgerRow]] = defaultdict(list)
    for e in entries:
        by_order[e.order_id].append(e)
    orders = []
    for order_id, rows in by_order.items():
        last_reserve = max((r for r in rows if r.kind == RESERVE), key=lambda r: r.id or 0)
        after = [r for r in rows if (r.id or 0) > (last_reserve.id or 0)]
        orders.append(
            LicenseOrder(
                order_id=order_id,
                quantity=last_reserve.quantity,
                value=from_cents(last_reserve.value_cents),
                released=any(r.kind == RELEASE for r in after),
                shipped=any(r.kind == COMMIT for r in after),
                allocated_at=utc(last_reserve.at),
            )
        )
    return orders


def obligation_view(row: ObligationRow) -> ObligationView:
    """An obligation as the API shows it."""
    return ObligationView(
        id=row.id or 0,
        code=row.code,
        text=row.text,
        owner=row.owner,
        due_on=row.due_on,
        blocking=row.blocking,
        fulfilled_by=row.fulfilled_by,
        fulfilled_at=utc(row.fulfilled_at) if row.fulfilled_at else None,
    )


def get_license(session: Session, *, number: str) -> LicenseView | None:
    """A license, what is reserved, shipped and left, its orders, ledger and obligations."""
    lic = session.get(LicenseRow, number)
    if lic is None:
        return None
    entries = list(
        session.exec(
            select(LicenseLedgerRow)
            .where(LicenseLedgerRow.license_number == number)
            .order_by(col(LicenseLedgerRow.id))
        ).all()
    )
    obligations = session.exec(
        select(ObligationRow)
        .where(ObligationRow.license_number == number)
        .order_by(col(ObligationRow.id))
    ).all()
    used = usage(session, number)
    return LicenseView(
        number=lic.number,
        application_control_number=lic.application_control_number,
        licensee=lic.licensee,
        consignee=lic.consignee,
        destination=lic.destination,
        skus=lic.skus,
        approved_quantity=lic.approved_quantity,
        approved_value=from_cents(lic.approved_value_cents),
        allocated_quantity=used.reserved_quantity,
        allocated_value=from_cents(used.reserved_cents),
        shipped_quantity=used.shipped_quantity,
        shipped_value=from_cents(used.shipped_cents),
        remaining_quantity=lic.approved_quantity - used.reserved_quantity,
        remaining_value=from_cents(lic.approved_value_cents - used.reserved_cents),
        valid_from=lic.valid_from,
        expires_on=lic.expires_on,
        recorded_by=lic.recorded_by,
        recorded_at=utc(lic.recorded_at),
        orders=_orders(entries),
        ledger=[
            LedgerEntry(
                kind=e.kind,
                order_id=e.order_id,
                quantity=e.quantity,
                value=from_cents(e.value_cents),
                actor=e.actor,
                reason=e.reason,
                itn=e.itn,
                at=utc(e.at),
            )
            for e in entries
        ],
        obligations=[obligation_view(o) for o in obligations],
    )


def list_licenses(session: Session, *, limit: int = 200) -> LicensePage:
    """Licenses, soonest expiry first, with what is left on each."""
    rows = session.exec(
        select(LicenseRow).order_by(col(LicenseRow.expires_on), col(LicenseRow.number)).limit(limit)
    ).all()
    items = []
    for lic in rows:
        used = usage(session, lic.number)
        items.append(
            LicenseSummary(
                number=lic.number,
                licensee=lic.licensee,
                destination=lic.destination,
                approved_quantity=lic.approved_quantity,
                allocated_quantity=used.reserved_quantity,
                remaining_quantity=lic.approved_quantity - used.reserved_quantity,
                approved_value=from_cents(lic.approved_value_cents),
                remaining_value=from_cents(lic.approved_value_cents - used.reserved_cents),
                expires_on=lic.expires_on,
            )
        )
    return LicensePage(items=items)
