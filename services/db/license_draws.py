"""Drawing on licenses, line by line: reserve (license decision), commit (shipment), release.

Each order item draws on its own license line, after the license's dates, destination and
parties are found to match the order's. Everything happens under the license's row lock, in
one transaction, so concurrent draws never take a line beyond what it approves.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from schemas.orders import AllocatedLine, LicenseAllocation
from schemas.workflow_io import AllocateRequest, DrawLine
from services.db.license_holdings import entries, entries_of
from services.db.licenses_repo import (
    RESERVE,
    VALUE_TOLERANCE,
    NewLine,
    Usage,
    add_license,
    as_line,
    check_active,
    check_dates,
    line_usage,
    lines_of,
    lock_license,
    parties_of,
)
from services.db.models import LicenseLedgerRow, LicenseLineRow, LicenseRow
from services.db.money import from_cents, to_cents
from workflows.activities import LicenseConflict
from workflows.rules.license_match import line_for, party_mismatches


def _new_license(session: Session, req: AllocateRequest, now: datetime) -> LicenseRow:
    """A license recorded from the decision's own terms: the order's parties, a line per item."""
    untermed = [d.sku for d in req.lines if d.approved_quantity is None or not d.approved_value]
    if not req.lines or untermed or req.expires_on is None:
        which = f" (none for {', '.join(untermed)})" if untermed else ""
        raise LicenseConflict(
            f"license {req.license_number} is not recorded; give its expires_on and, per "
            f"licensed line, approved_quantity and approved_value{which}, or record it with "
            "POST /licenses first"
        )
    lic = LicenseRow(
        number=req.license_number,
        destination=req.destination,
        parties=req.parties.model_dump(mode="json"),
        expires_on=req.expires_on,
        recorded_by=req.actor,
        recorded_at=now,
    )
    lines = [
        NewLine(d.sku, d.eccn, d.approved_quantity or 0, d.approved_value or Decimal(0))
        for d in req.lines
    ]
    return add_license(session, lic, lines)


def _check_terms(
    lic: LicenseRow, matched: list[tuple[DrawLine, LicenseLineRow]], req: AllocateRequest
) -> None:
    """Terms given again for a recorded license must be the recorded ones."""
    if req.expires_on is not None and req.expires_on != lic.expires_on:
        raise LicenseConflict(
            f"license {lic.number} is already recorded with expiry {lic.expires_on.isoformat()}"
        )
    for draw, line in matched:
        item = f"line {line.line_no} ({line.sku or line.eccn})"
        if draw.approved_quantity is not None and draw.approved_quantity != line.approved_quantity:
            raise LicenseConflict(
                f"license {lic.number} is already recorded with approved quantity "
                f"{line.approved_quantity} on {item}"
            )
        if draw.approved_value is not None and to_cents(draw.approved_value) != (
            line.approved_value_cents
        ):
            raise LicenseConflict(
                f"license {lic.number} is already recorded with approved value "
                f"{from_cents(line.approved_value_cents)} on {item}"
            )


def _match(
    session: Session, lic: LicenseRow, req: AllocateRequest, now: datetime
) -> list[tuple[DrawLine, LicenseLineRow]]:
    """Each item's license line; refused naming every party, place or item that differs."""
    check_active(lic)
    check_dates(lic, now.date())
    problems = party_mismatches(
        lic.number, parties_of(lic), lic.destination, req.parties, req.destination
    )
    rows = lines_of(session, lic.number)
    matched = []
    for draw in req.lines:
        found = line_for(lic.number, [as_line(r) for r in rows], draw)
        if isinstance(found, str):
            problems.append(found)
        else:
            matched.append((draw, next(r for r in rows if r.line_no == found.line)))
    if problems:
        raise LicenseConflict("; ".join(problems))
    if not matched:
        raise LicenseConflict("the order has no licensed line to draw on a license")
    return matched


def _check_fit(
    lic: LicenseRow, matched: list[tuple[DrawLine, LicenseLineRow]], used: dict[int, Usage]
) -> None:
    """Never beyond a line's approved quantity, nor its value (+10% until fully shipped)."""
    problems = []
    for line in {row.id: row for _, row in matched}.values():
        draws = [d for d, row in matched if row.id == line.id]
        u = used.get(line.id or 0, Usage())
        left_q = line.approved_quantity - u.reserved_quantity
        cap = line.approved_value_cents
        if u.shipped_quantity < line.approved_quantity:
            cap += int(cap * VALUE_TOLERANCE)
        left_v = cap - u.reserved_cents
        need_q = sum(d.quantity for d in draws)
        need_v = sum(to_cents(d.value) for d in draws)
        if need_q > left_q or need_v > left_v:
            problems.append(
                f"license {lic.number} line {line.line_no} ({line.sku or line.eccn}) has "
                f"{max(left_q, 0)} units and USD {from_cents(max(left_v, 0))} left; this order "
                f"needs {need_q} units and USD {from_cents(need_v)}"
            )
    if problems:
        raise LicenseConflict("; ".join(problems))


def reserve(session: Session, req: AllocateRequest, *, now: datetime) -> LicenseAllocation:
    """Reserve each licensed item on its license line; never beyond it, and once per key."""
    done = entries(session, [req.entry_key, f"{req.entry_key}:1"])
    lic = lock_license(session, req.license_number)
    if done:  # a retry after the first attempt committed
        assert lic is not None
        prefix = f"{req.entry_key}:"
        rows = [e for e in entries_of(session, req.order_id) if e.entry_key.startswith(prefix)]
        return _allocation(session, lic, rows or done)
    if lic is None:
        lic = _new_license(session, req, now)
    matched = _match(session, lic, req, now)
    _check_terms(lic, matched, req)
    _check_fit(lic, matched, line_usage(session, lic.number))
    rows = []
    for i, (draw, line) in enumerate(matched, start=1):
        row = LicenseLedgerRow(
            entry_key=f"{req.entry_key}:{i}",
            license_number=lic.number,
            line_id=line.id or 0,
            sku=draw.sku,
            order_id=req.order_id,
            kind=RESERVE,
            quantity=draw.quantity,
            value_cents=to_cents(draw.value),
            actor=req.actor,
            reason="license decision recorded",
            at=now,
        )
        session.add(row)
        rows.append(row)
    return _allocation(session, lic, rows)


def _allocation(
    session: Session, lic: LicenseRow, rows: list[LicenseLedgerRow]
) -> LicenseAllocation:
    numbers = {r.id: r.line_no for r in lines_of(session, lic.number)}
    return LicenseAllocation(
        license_number=lic.number,
        quantity=sum(r.quantity for r in rows),
        value=from_cents(sum(r.value_cents for r in rows)),
        expires_on=lic.expires_on,
        lines=[
            AllocatedLine(
                sku=r.sku or "*",
                license_line=numbers.get(r.line_id, 0),
                quantity=r.quantity,
                value=from_cents(r.value_cents),
            )
            for r in rows
        ],
    )
