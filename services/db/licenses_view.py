"""Read side of licenses: one license with its lines, parties and ledger, and the list."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from schemas.license_actions import LicenseStatus
from schemas.licenses import (
    LedgerEntry,
    LicenseLineView,
    LicenseOrder,
    LicensePage,
    LicenseSummary,
    LicenseView,
    ObligationView,
)
from services.db import license_actions_repo
from services.db.licenses_repo import (
    COMMIT,
    RELEASE,
    RESERVE,
    Usage,
    line_usage,
    lines_of,
    parties_of,
    usage,
)
from services.db.models import LicenseLedgerRow, LicenseLineRow, LicenseRow, ObligationRow
from services.db.money import from_cents, utc


def _order(order_id: str, rows: list[LicenseLedgerRow]) -> LicenseOrder:
    """One order's latest draw: per line and item, its last reservation and what followed."""
    latest: dict[tuple[int, str | None], LicenseLedgerRow] = {}
    for r in rows:
        if r.kind == RESERVE:
            latest[(r.line_id, r.sku)] = r
    after = [
        r
        for r in rows
        if r.kind != RESERVE
        and (r.line_id, r.sku) in latest
        and (r.id or 0) > (latest[(r.line_id, r.sku)].id or 0)
    ]
    held = list(latest.values())
    quantity = sum(r.quantity for r in held)
    shipped = sum(r.quantity for r in after if r.kind == COMMIT)
    return LicenseOrder(
        order_id=order_id,
        skus=[r.sku for r in held if r.sku],
        quantity=quantity,
        value=from_cents(sum(r.value_cents for r in held)),
        released=any(r.kind == RELEASE for r in after),
        shipped=shipped > 0 and shipped >= quantity,
        shipped_quantity=shipped,
        allocated_at=utc(max(r.at for r in held)),
    )


def _orders(entries: list[LicenseLedgerRow]) -> list[LicenseOrder]:
    by_order: dict[str, list[LicenseLedgerRow]] = defaultdict(list)
    for e in entries:
        by_order[e.order_id].append(e)
    return [
        _order(oid, rows) for oid, rows in by_order.items() if any(r.kind == RESERVE for r in rows)
    ]


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


def _line_view(row: LicenseLineRow, u: Usage) -> LicenseLineView:
    return LicenseLineView(
        line=row.line_no,
        sku=row.sku,
        eccn=row.eccn,
        approved_quantity=row.approved_quantity,
        approved_value=from_cents(row.approved_value_cents),
        allocated_quantity=u.reserved_quantity,
        allocated_value=from_cents(u.reserved_cents),
        shipped_quantity=u.shipped_quantity,
        shipped_value=from_cents(u.shipped_cents),
        remaining_quantity=row.approved_quantity - u.reserved_quantity,
        remaining_value=from_cents(row.approved_value_cents - u.reserved_cents),
        pooled_skus=list(row.pooled_skus) if row.pooled else None,
    )


def _ledger_entry(e: LicenseLedgerRow, numbers: dict[int, int]) -> LedgerEntry:
    return LedgerEntry(
        kind=e.kind,
        order_id=e.order_id,
        line=numbers.get(e.line_id, 0),
        sku=e.sku,
        quantity=e.quantity,
        value=from_cents(e.value_cents),
        actor=e.actor,
        reason=e.reason,
        itn=e.itn,
        at=utc(e.at),
    )


def get_license(session: Session, *, number: str) -> LicenseView | None:
    """A license, its parties and lines, what is drawn, shipped and left, orders, obligations."""
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
    rows, used = lines_of(session, number), line_usage(session, number)
    lines = [_line_view(r, used.get(r.id or 0, Usage())) for r in rows]
    numbers = {r.id or 0: r.line_no for r in rows}
    parties = parties_of(lic)
    approved_q = sum(r.approved_quantity for r in rows)
    approved_c = sum(r.approved_value_cents for r in rows)
    total = usage(session, number)
    return LicenseView(
        number=lic.number,
        application_control_number=lic.application_control_number,
        licensee=lic.licensee,
        ultimate_consignee=parties.ultimate_consignee,
        end_user=parties.end_user,
        intermediate_consignees=parties.intermediate_consignees,
        consignee=parties.ultimate_consignee.name if parties.ultimate_consignee else "",
        destination=lic.destination,
        skus=sorted({s for r in rows for s in ([r.sku] if r.sku else r.pooled_skus)}),
        lines=lines,
        approved_quantity=approved_q,
        approved_value=from_cents(approved_c),
        allocated_quantity=total.reserved_quantity,
        allocated_value=from_cents(total.reserved_cents),
        shipped_quantity=total.shipped_quantity,
        shipped_value=from_cents(total.shipped_cents),
        remaining_quantity=approved_q - total.reserved_quantity,
        remaining_value=from_cents(approved_c - total.reserved_cents),
        valid_from=lic.valid_from,
        expires_on=lic.expires_on,
        recorded_by=lic.recorded_by,
        recorded_at=utc(lic.recorded_at),
        orders=_orders(entries),
        ledger=[_ledger_entry(e, numbers) for e in entries],
        obligations=[obligation_view(o) for o in obligations],
        status=LicenseStatus(lic.status),
        status_reason=lic.status_reason,
        actions=license_actions_repo.action_views(session, number=number),
    )


def list_licenses(session: Session, *, limit: int = 200) -> LicensePage:
    """Licenses, soonest expiry first, with what is left on each."""
    rows = session.exec(
        select(LicenseRow).order_by(col(LicenseRow.expires_on), col(LicenseRow.number)).limit(limit)
    ).all()
    items = []
    for lic in rows:
        lines = lines_of(session, lic.number)
        approved_q = sum(r.approved_quantity for r in lines)
        approved_c = sum(r.approved_value_cents for r in lines)
        used = usage(session, lic.number)
        items.append(
            LicenseSummary(
                number=lic.number,
                licensee=lic.licensee,
                destination=lic.destination,
                lines=len(lines),
                approved_quantity=approved_q,
                allocated_quantity=used.reserved_quantity,
                remaining_quantity=approved_q - used.reserved_quantity,
                approved_value=from_cents(approved_c),
                remaining_value=from_cents(approved_c - used.reserved_cents),
                expires_on=lic.expires_on,
                status=LicenseStatus(lic.status),
            )
        )
    return LicensePage(items=items)
