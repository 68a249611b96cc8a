"""Licenses as a ledger: reserve, commit, release. What is left is derived from the entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from schemas.licenses import LicenseCreate
from schemas.orders import LicenseAllocation
from schemas.workflow_io import AllocateRequest, CommitRequest, ReleaseRequest
from services.db.models import LicenseLedgerRow, LicenseRow, ObligationRow
from services.db.money import from_cents, to_cents
from workflows.activities import LicenseConflict

RESERVE, COMMIT, RELEASE = "reserve", "commit", "release"
# The EAR tolerates 10% over the approved value, but not once the full quantity has shipped.
VALUE_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True)
class Usage:
    """Derived from the ledger: reserved (net of releases) and shipped amounts."""

    reserved_quantity: int
    reserved_cents: int
    shipped_quantity: int
    shipped_cents: int


def lock_license(session: Session, number: str) -> LicenseRow | None:
    """The license row, locked for this transaction (FOR UPDATE on PostgreSQL)."""
    # SQLite write sessions already hold the database's write lock (BEGIN IMMEDIATE).
    stmt = select(LicenseRow).where(LicenseRow.number == number).with_for_update()
    return session.exec(stmt).first()


def usage(session: Session, number: str) -> Usage:
    """Sum the ledger: reserve adds, release subtracts, commit marks as shipped."""

    def total(column: object, kind: str) -> object:
        return func.coalesce(func.sum(case((col(LicenseLedgerRow.kind) == kind, column))), 0)

    q, v = col(LicenseLedgerRow.quantity), col(LicenseLedgerRow.value_cents)
    row = session.exec(
        select(  # type: ignore[call-overload]
            total(q, RESERVE),
            total(v, RESERVE),
            total(q, RELEASE),
            total(v, RELEASE),
            total(q, COMMIT),
            total(v, COMMIT),
        ).where(LicenseLedgerRow.license_number == number)
    ).one()
    rq, rv, lq, lv, cq, cv = (int(x) for x in row)
    return Usage(rq - lq, rv - lv, cq, cv)


def create_license(
    session: Session, body: LicenseCreate, *, actor: str, now: datetime
) -> LicenseRow:
    """Record a license with its conditions; a known number is a conflict."""
    if session.get(LicenseRow, body.license_number) is not None:
        raise LicenseConflict(f"license {body.license_number} is already recorded")
    lic = LicenseRow(
        number=body.license_number,
        application_control_number=body.application_control_number,
        licensee=body.licensee,
        consignee=body.consignee,
        destination=body.destination,
        skus=list(body.skus),
        approved_quantity=body.approved_quantity,
        approved_value_cents=to_cents(body.approved_value),
        valid_from=body.valid_from,
        expires_on=body.expires_on,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(lic)
    session.flush()
    for c in body.conditions:
        session.add(
            ObligationRow(
                license_number=lic.number,
                code=c.code,
                text=c.text,
                owner=c.owner,
                due_on=c.due_on,
                blocking=c.blocking,
            )
        )
    return lic


def _license_for(session: Session, req: AllocateRequest, now: datetime) -> LicenseRow:
    lic = lock_license(session, req.license_number)
    if lic is None:
        if req.approved_quantity is None or req.approved_value is None or not req.expires_on:
            raise LicenseConflict(
                f"license {req.license_number} is not recorded; give its approved_quantity, "
                "approved_value and expires_on, or record it with POST /licenses first"
            )
        lic = LicenseRow(
            number=req.license_number,
            approved_quantity=req.approved_quantity,
            approved_value_cents=to_cents(req.approved_value),
            expires_on=req.expires_on,
            destination=req.destination,
            skus=sorted(set(req.skus)),
            recorded_by=req.actor,
            recorded_at=now,
        )
        session.add(lic)
        session.flush()
        return lic
    _check_terms(lic, req)
    return lic


def _check_terms(lic: LicenseRow, req: AllocateRequest) -> None:
    if req.approved_quantity is not None and req.approved_quantity != lic.approved_quantity:
        raise LicenseConflict(
            f"license {lic.number} is already recorded with approved quantity "
            f"{lic.approved_quantity}"
        )
    if req.approved_value is not None and to_cents(req.approved_value) != lic.approved_value_cents:
        raise LicenseConflict(
            f"license {lic.number} is already recorded with approved value "
            f"{from_cents(lic.approved_value_cents)}"
        )
    if req.expires_on is not None and req.expires_on != lic.expires_on:
        raise LicenseConflict(
            f"license {lic.number} is already recorded with expiry {lic.expires_on.isoformat()}"
        )
    if lic.destination and lic.destination != req.destination:
        raise LicenseConflict(
            f"license {lic.number} is for {lic.destination}, not {req.destination}"
        )
    uncovered = sorted(set(req.skus) - set(lic.skus)) if lic.skus else []
    if uncovered:
        raise LicenseConflict(f"license {lic.number} does not cover {', '.join(uncovered)}")


def reserve(session: Session, req: AllocateRequest, *, now: datetime) -> LicenseAllocation:
    """Reserve the order's quantity and value; never beyond the license, and once per key."""
    done = session.exec(
        select(LicenseLedgerRow).where(LicenseLedgerRow.entry_key == req.entry_key)
    ).first()
    lic = _license_for(session, req, now)
    if done is not None:  # a retry after the first attempt committed
        return _allocation(lic, done.quantity, done.value_cents)
    if lic.expires_on < now.date():
        raise LicenseConflict(f"license {lic.number} expired on {lic.expires_on.isoformat()}")
    used = usage(session, lic.number)
    left_q = lic.approved_quantity - used.reserved_quantity
    cap = lic.approved_value_cents
    if used.shipped_quantity < lic.approved_quantity:
        cap += int(cap * VALUE_TOLERANCE)
    left_v = cap - used.reserved_cents
    value_cents = to_cents(req.value)
    if req.quantity > left_q or value_cents > left_v:
        raise LicenseConflict(
            f"license {lic.number} has {max(left_q, 0)} units and USD "
            f"{from_cents(max(left_v, 0))} left; this order needs {req.quantity} units "
            f"and USD {req.value}"
        )
    session.add(
        LicenseLedgerRow(
            entry_key=req.entry_key,
            license_number=lic.number,
            order_id=req.order_id,
            kind=RESERVE,
            quantity=req.quantity,
            value_cents=value_cents,
            actor=req.actor,
            reason="license decision recorded",
            at=now,
        )
    )
    return _allocation(lic, req.quantity, value_cents)


def _allocation(lic: LicenseRow, quantity: int, cents: int) -> LicenseAllocation:
    return LicenseAllocation(
        license_number=lic.number,
        quantity=quantity,
        value=from_cents(cents),
        expires_on=lic.expires_on,
    )


def open_reservation(session: Session, *, order_id: str) -> LicenseLedgerRow | None:
    """The order's latest reservation if it has not been released."""
    entries = session.exec(
        select(LicenseLedgerRow)
        .where(LicenseLedgerRow.order_id == order_id)
        .order_by(col(LicenseLedgerRow.id))
    ).all()
    current: LicenseLedgerRow | None = None
    for e in entries:
        if e.kind == RESERVE:
            current = e
        elif e.kind == RELEASE:
            current = None
    return current


def _follow_up(
    session: Session,
    key: str,
    order_id: str,
    kind: str,
    actor: str,
    reason: str | None,
    itn: str | None,
    now: datetime,
) -> bool:
    if session.exec(select(LicenseLedgerRow).where(LicenseLedgerRow.entry_key == key)).first():
        return False
    held = open_reservation(session, order_id=order_id)
    if held is None:
        return False
    lock_license(session, held.license_number)
    session.add(
        LicenseLedgerRow(
            entry_key=key,
            license_number=held.license_number,
            order_id=order_id,
            kind=kind,
            quantity=held.quantity,
            value_cents=held.value_cents,
            actor=actor,
            reason=reason,
            itn=itn,
            at=now,
        )
    )
    return True


def release(session: Session, req: ReleaseRequest, *, now: datetime) -> bool:
    """Give back the order's reservation; False when there is none (or it was released)."""
    return _follow_up(
        session, req.entry_key, req.order_id, RELEASE, req.actor, req.reason, None, now
    )


def commit(session: Session, req: CommitRequest, *, now: datetime) -> bool:
    """Mark the order's reservation as shipped under an export filing (ITN)."""
    return _follow_up(
        session, req.entry_key, req.order_id, COMMIT, req.actor, "shipped", req.itn, now
    )


def blocking_obligations(session: Session, *, number: str) -> list[ObligationRow]:
    """Open (unfulfilled) blocking obligations of a license."""
    return list(
        session.exec(
            select(ObligationRow)
            .where(
                ObligationRow.license_number == number,
                col(ObligationRow.blocking).is_(True),
                col(ObligationRow.fulfilled_at).is_(None),
            )
            .order_by(col(ObligationRow.id))
        ).all()
    )


def fulfil_obligation(
    session: Session, *, number: str, obligation_id: int, actor: str, now: datetime
) -> ObligationRow | None:
    """Mark an obligation met; None when the license has no such obligation."""
    row = session.get(ObligationRow, obligation_id)
    if row is None or row.license_number != number:
        return None
    if row.fulfilled_at is None:
        row.fulfilled_by, row.fulfilled_at = actor, now
        session.add(row)
    return row
