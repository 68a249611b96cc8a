"""Licenses as records: terms, parties, lines, obligations, and usage summed from the ledger.

Drawing on a license (reserve, commit, release) is in `services.db.license_draws`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from schemas.licenses import LicenseCreate, LicenseParties
from services.db.models import LicenseLedgerRow, LicenseLineRow, LicenseRow, ObligationRow
from services.db.money import to_cents
from workflows.activities import LicenseConflict
from workflows.rules.license_match import LicenseLine

RESERVE, COMMIT, RELEASE = "reserve", "commit", "release"
# The EAR tolerates 10% over the approved value, but not once the full quantity has shipped.
VALUE_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True)
class Usage:
    """Derived from the ledger: reserved (net of releases) and shipped amounts."""

    reserved_quantity: int = 0
    reserved_cents: int = 0
    shipped_quantity: int = 0
    shipped_cents: int = 0


@dataclass(frozen=True)
class NewLine:
    """A line of a license being recorded."""

    sku: str | None
    eccn: str | None
    approved_quantity: int
    approved_value: Decimal


def lock_license(session: Session, number: str) -> LicenseRow | None:
    """The license row, locked for this transaction (FOR UPDATE on PostgreSQL).

    Every draw, release and commit on any of its lines takes this lock first, so the lines'
    sums cannot change between reading them and writing an entry.
    """
    # SQLite write sessions already hold the database's write lock (BEGIN IMMEDIATE).
    stmt = select(LicenseRow).where(LicenseRow.number == number).with_for_update()
    return session.exec(stmt).first()


def lines_of(session: Session, number: str) -> list[LicenseLineRow]:
    """The license's lines, in order."""
    stmt = (
        select(LicenseLineRow)
        .where(LicenseLineRow.license_number == number)
        .order_by(col(LicenseLineRow.line_no))
    )
    return list(session.exec(stmt).all())


def as_line(row: LicenseLineRow) -> LicenseLine:
    """A line as the matching rules see it."""
    pooled = tuple(row.pooled_skus) if row.pooled else None
    return LicenseLine(line=row.line_no, sku=row.sku, eccn=row.eccn, pooled_skus=pooled)


def parties_of(lic: LicenseRow) -> LicenseParties:
    """The parties the license names."""
    return LicenseParties.model_validate(lic.parties or {})


def line_usage(session: Session, number: str) -> dict[int, Usage]:
    """Sum the ledger per line id: reserve adds, release subtracts, commit marks as shipped."""

    def total(column: object, kind: str) -> object:
        return func.coalesce(func.sum(case((col(LicenseLedgerRow.kind) == kind, column))), 0)

    q, v = col(LicenseLedgerRow.quantity), col(LicenseLedgerRow.value_cents)
    rows = session.exec(
        select(  # type: ignore[call-overload]
            LicenseLedgerRow.line_id,
            total(q, RESERVE),
            total(v, RESERVE),
            total(q, RELEASE),
            total(v, RELEASE),
            total(q, COMMIT),
            total(v, COMMIT),
        )
        .where(LicenseLedgerRow.license_number == number)
        .group_by(LicenseLedgerRow.line_id)
    ).all()
    usage = {}
    for line_id, *sums in rows:
        rq, rv, lq, lv, cq, cv = (int(x) for x in sums)
        usage[int(line_id)] = Usage(rq - lq, rv - lv, cq, cv)
    return usage


def usage(session: Session, number: str) -> Usage:
    """The whole license's usage: the sum over its lines."""
    by_line = line_usage(session, number).values()
    return Usage(
        sum(u.reserved_quantity for u in by_line),
        sum(u.reserved_cents for u in by_line),
        sum(u.shipped_quantity for u in by_line),
        sum(u.shipped_cents for u in by_line),
    )


def add_license(
    session: Session,
    lic: LicenseRow,
    lines: list[NewLine],
) -> LicenseRow:
    """Insert a license and its lines (numbered from 1); a known number is a conflict."""
    if session.get(LicenseRow, lic.number) is not None:
        raise LicenseConflict(f"license {lic.number} is already recorded")
    session.add(lic)
    session.flush()
    for no, line in enumerate(lines, start=1):
        session.add(
            LicenseLineRow(
                license_number=lic.number,
                line_no=no,
                sku=line.sku,
                eccn=line.eccn,
                approved_quantity=line.approved_quantity,
                approved_value_cents=to_cents(line.approved_value),
            )
        )
    session.flush()
    return lic


def create_license(
    session: Session, body: LicenseCreate, *, actor: str, now: datetime
) -> LicenseRow:
    """Record a license with its parties, lines and conditions."""
    lic = LicenseRow(
        number=body.license_number,
        application_control_number=body.application_control_number,
        licensee=body.licensee,
        destination=body.destination,
        parties=body.parties().model_dump(mode="json"),
        valid_from=body.valid_from,
        expires_on=body.expires_on,
        recorded_by=actor,
        recorded_at=now,
    )
    lines = [
        NewLine(line.sku, line.eccn, line.approved_quantity, line.approved_value)
        for line in body.license_lines()
    ]
    add_license(session, lic, lines)
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


def check_dates(lic: LicenseRow, today: date) -> None:
    """A license is drawn on only between its valid_from and its expiry."""
    if lic.valid_from is not None and lic.valid_from > today:
        raise LicenseConflict(
            f"license {lic.number} is valid from {lic.valid_from.isoformat()}; "
            "it cannot be drawn on before then"
        )
    if lic.expires_on < today:
        raise LicenseConflict(f"license {lic.number} expired on {lic.expires_on.isoformat()}")


def _status_sentence(lic: LicenseRow) -> str | None:
    if lic.status == "active":
        return None
    why = f": {lic.status_reason}" if lic.status_reason else ""
    return f"license {lic.number} is {lic.status}{why}"


def check_active(lic: LicenseRow) -> None:
    """A suspended or revoked license takes no draw (409 naming its state)."""
    sentence = _status_sentence(lic)
    if sentence is not None:
        raise LicenseConflict(f"{sentence}; it cannot be drawn on")


def unusable(session: Session, *, number: str) -> list[str]:
    """Why goods cannot ship under the license now: suspended or revoked (else empty)."""
    lic = session.get(LicenseRow, number)
    sentence = _status_sentence(lic) if lic is not None else None
    return [f"{sentence}; nothing ships under it"] if sentence else []
