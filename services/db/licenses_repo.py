"""Repository functions for licenses and the orders drawn on them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from schemas.licenses import LicenseOrder, LicenseView
from schemas.orders import LicenseAllocation
from schemas.workflow_io import AllocateRequest
from services.db.models import LicenseAllocationRow, LicenseRow
from services.db.money import from_cents, to_cents, utc
from workflows.activities import LicenseConflict


def _lock_license(session: Session, number: str) -> LicenseRow | None:
    # FOR UPDATE serialises concurrent allocations on PostgreSQL; SQLite write sessions
    # already hold the database's write lock (BEGIN IMMEDIATE).
    stmt = select(LicenseRow).where(LicenseRow.number == number).with_for_update()
    return session.exec(stmt).first()


def _existing_terms_conflict(lic: LicenseRow, req: AllocateRequest) -> str | None:
    if lic.approved_quantity != req.approved_quantity:
        return f"approved quantity {lic.approved_quantity}"
    if lic.approved_value_cents != to_cents(req.approved_value):
        return f"approved value {from_cents(lic.approved_value_cents)}"
    if lic.expires_on != req.expires_on:
        return f"expiry {lic.expires_on.isoformat()}"
    return None


def allocate(session: Session, req: AllocateRequest, *, now: datetime) -> LicenseAllocation:
    """Draw an order on a license; never beyond what is approved, and once per order."""
    lic = _lock_license(session, req.license_number)
    if lic is None:
        lic = LicenseRow(
            number=req.license_number,
            approved_quantity=req.approved_quantity,
            approved_value_cents=to_cents(req.approved_value),
            expires_on=req.expires_on,
            recorded_by=req.actor,
            recorded_at=now,
        )
        session.add(lic)
        session.flush()
    elif (differs := _existing_terms_conflict(lic, req)) is not None:
        raise LicenseConflict(f"license {lic.number} is already recorded with {differs}")
    done = session.exec(
        select(LicenseAllocationRow).where(LicenseAllocationRow.order_id == req.order_id)
    ).first()
    if done is not None and not done.released:
        if done.license_number != req.license_number:
            raise LicenseConflict(f"order already draws on license {done.license_number}")
        return _allocation_of(done, lic)
    value_cents = to_cents(req.value)
    left_q = lic.approved_quantity - lic.allocated_quantity
    left_v = lic.approved_value_cents - lic.allocated_value_cents
    if req.quantity > left_q or value_cents > left_v:
        raise LicenseConflict(
            f"license {lic.number} has {left_q} units and USD {from_cents(left_v)} left; "
            f"this order needs {req.quantity} units and USD {req.value}"
        )
    lic.allocated_quantity += req.quantity
    lic.allocated_value_cents += value_cents
    row = done or LicenseAllocationRow(
        order_id=req.order_id,
        license_number=lic.number,
        quantity=0,
        value_cents=0,
        allocated_by=req.actor,
        allocated_at=now,
    )
    row.license_number, row.quantity, row.value_cents = lic.number, req.quantity, value_cents
    row.released, row.released_at, row.allocated_at = False, None, now
    session.add_all([lic, row])
    return _allocation_of(row, lic)


def _allocation_of(row: LicenseAllocationRow, lic: LicenseRow) -> LicenseAllocation:
    return LicenseAllocation(
        license_number=lic.number,
        quantity=row.quantity,
        value=from_cents(row.value_cents),
        expires_on=lic.expires_on,
    )


def release(session: Session, *, order_id: str, now: datetime) -> bool:
    """Give back an order's draw; False when there was nothing (left) to release."""
    row = session.exec(
        select(LicenseAllocationRow).where(LicenseAllocationRow.order_id == order_id)
    ).first()
    if row is None or row.released:
        return False
    lic = _lock_license(session, row.license_number)
    assert lic is not None  # foreign key
    lic.allocated_quantity -= row.quantity
    lic.allocated_value_cents -= row.value_cents
    row.released, row.released_at = True, now
    session.add_all([lic, row])
    return True


def get_license(session: Session, *, number: str) -> LicenseView | None:
    """A license with what is approved, drawn and left, and the orders on it."""
    lic = session.get(LicenseRow, number)
    if lic is None:
        return None
    rows = session.exec(
        select(LicenseAllocationRow)
        .where(LicenseAllocationRow.license_number == number)
        .order_by(col(LicenseAllocationRow.allocated_at))
    ).all()
    return LicenseView(
        number=lic.number,
        approved_quantity=lic.approved_quantity,
        approved_value=from_cents(lic.approved_value_cents),
        allocated_quantity=lic.allocated_quantity,
        allocated_value=from_cents(lic.allocated_value_cents),
        remaining_quantity=lic.approved_quantity - lic.allocated_quantity,
        remaining_value=from_cents(lic.approved_value_cents - lic.allocated_value_cents),
        expires_on=lic.expires_on,
        recorded_by=lic.recorded_by,
        recorded_at=utc(lic.recorded_at),
        orders=[
            LicenseOrder(
                order_id=r.order_id,
                quantity=r.quantity,
                value=from_cents(r.value_cents),
                released=r.released,
                allocated_at=utc(r.allocated_at),
            )
            for r in rows
        ],
    )
