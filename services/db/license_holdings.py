"""What an order holds on its licenses, and the entries that follow a draw: commit, release.

A shipment commits what it takes of each reservation (partial shipments commit several times);
a release gives back what is reserved and not shipped. Both take the licenses' row locks and
are idempotent by their entry key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from schemas.workflow_io import CommitRequest, ReleaseRequest
from services.db.licenses_repo import COMMIT, RELEASE, RESERVE, lock_license
from services.db.models import LicenseLedgerRow, LicenseLineRow
from services.db.money import to_cents


def entries(session: Session, keys: list[str]) -> list[LicenseLedgerRow]:
    """Ledger entries by their keys, oldest first."""
    stmt = (
        select(LicenseLedgerRow)
        .where(col(LicenseLedgerRow.entry_key).in_(keys))
        .order_by(col(LicenseLedgerRow.id))
    )
    return list(session.exec(stmt).all())


def entries_of(session: Session, order_id: str) -> list[LicenseLedgerRow]:
    """Every ledger entry of an order, oldest first."""
    stmt = (
        select(LicenseLedgerRow)
        .where(LicenseLedgerRow.order_id == order_id)
        .order_by(col(LicenseLedgerRow.id))
    )
    return list(session.exec(stmt).all())


@dataclass
class Held:
    """A reservation not released, and what of it has shipped since (commits)."""

    reserve: LicenseLedgerRow
    shipped_quantity: int = 0
    shipped_cents: int = 0

    @property
    def left_quantity(self) -> int:
        """Reserved and not yet shipped."""
        return self.reserve.quantity - self.shipped_quantity

    @property
    def left_cents(self) -> int:
        """The value reserved and not yet shipped."""
        return max(self.reserve.value_cents - self.shipped_cents, 0)


def holdings(session: Session, *, order_id: str) -> list[Held]:
    """The order's reservations not released, one per license line and item, with shipments.

    A release gives back what was reserved and not shipped, so a reservation's units are
    always shipped (committed) or still drawn; a new reservation on the same line starts over.
    """
    current: dict[tuple[str, int, str | None], Held] = {}
    for e in entries_of(session, order_id):
        key = (e.license_number, e.line_id, e.sku)
        if e.kind == RESERVE:
            current[key] = Held(e)
        elif e.kind == RELEASE:
            current.pop(key, None)
        elif e.kind == COMMIT and key in current:
            current[key].shipped_quantity += e.quantity
            current[key].shipped_cents += e.value_cents
    return sorted(current.values(), key=lambda h: h.reserve.id or 0)


def open_reservations(session: Session, *, order_id: str) -> list[LicenseLedgerRow]:
    """The order's reservations with units still to ship, one per license line and item."""
    return [h.reserve for h in holdings(session, order_id=order_id) if h.left_quantity > 0]


def _entry(
    held: Held, req: ReleaseRequest | CommitRequest, kind: str, now: datetime
) -> LicenseLedgerRow:
    h = held.reserve
    return LicenseLedgerRow(
        entry_key="",
        license_number=h.license_number,
        line_id=h.line_id,
        sku=h.sku,
        order_id=req.order_id,
        kind=kind,
        quantity=held.left_quantity,
        value_cents=held.left_cents,
        actor=req.actor,
        reason=req.reason if isinstance(req, ReleaseRequest) else "shipped",
        itn=req.itn if isinstance(req, CommitRequest) else None,
        at=now,
    )


def _shipped_now(held: list[Held], req: CommitRequest, now: datetime) -> list[LicenseLedgerRow]:
    """One commit per reservation this shipment takes units of (all that is left: None)."""
    if req.lines is None:
        return [_entry(h, req, COMMIT, now) for h in held]
    rows = []
    for line in req.lines:
        found = next((h for h in held if h.reserve.sku == line.sku), None)
        found = found or next((h for h in held if h.reserve.sku is None), None)
        if found is None:
            continue  # an item that needs no license draw
        row = _entry(found, req, COMMIT, now)
        row.quantity = min(line.quantity, found.left_quantity)
        row.value_cents = min(to_cents(line.value), found.left_cents)
        found.shipped_quantity += row.quantity
        found.shipped_cents += row.value_cents
        rows.append(row)
    return rows


def _follow_up(
    session: Session, req: ReleaseRequest | CommitRequest, kind: str, now: datetime
) -> bool:
    """Release, or commit a shipment of, the order's open reservations, each on its line."""
    if entries(session, [req.entry_key, f"{req.entry_key}:1"]):
        return False
    held = [h for h in holdings(session, order_id=req.order_id) if h.left_quantity > 0]
    if not held:
        return False
    for number in sorted({h.reserve.license_number for h in held}):
        lock_license(session, number)
    if isinstance(req, CommitRequest):
        rows = _shipped_now(held, req, now)
    else:
        rows = [_entry(h, req, kind, now) for h in held]
    for i, row in enumerate(rows, start=1):
        row.entry_key = f"{req.entry_key}:{i}"
        session.add(row)
    return bool(rows)


def release(session: Session, req: ReleaseRequest, *, now: datetime) -> bool:
    """Give back what the order holds and has not shipped; False when there is nothing."""
    return _follow_up(session, req, RELEASE, now)


def commit(session: Session, req: CommitRequest, *, now: datetime) -> bool:
    """Record a shipment against the order's reservations under its export filing (ITN)."""
    return _follow_up(session, req, COMMIT, now)


def undrawn(session: Session, *, order_id: str, licensed: list[str]) -> list[str]:
    """Licensed items of the order with no open reservation (a whole-order one covers all)."""
    held = open_reservations(session, order_id=order_id)
    if any(h.sku is None for h in held):
        return []
    drawn = {h.sku for h in held}
    return [sku for sku in licensed if sku not in drawn]


def drawn_lines(session: Session, *, order_id: str) -> dict[str | None, tuple[str, int]]:
    """Per item (None: the whole order, before lines), the license number and line it holds."""
    held = [h.reserve for h in holdings(session, order_id=order_id)]
    numbers = {
        r.id: r.line_no
        for r in session.exec(
            select(LicenseLineRow).where(col(LicenseLineRow.id).in_([h.line_id for h in held]))
        ).all()
    }
    return {h.sku: (h.license_number, numbers.get(h.line_id, 0)) for h in held}


def committed_by_itn(
    session: Session, *, order_id: str
) -> dict[tuple[str, str | None], tuple[str, int]]:
    """Per (ITN, item) of the order's shipments, the license number and line it shipped on."""
    rows = [e for e in entries_of(session, order_id) if e.kind == COMMIT and e.itn]
    numbers = {
        r.id: r.line_no
        for r in session.exec(
            select(LicenseLineRow).where(col(LicenseLineRow.id).in_([e.line_id for e in rows]))
        ).all()
    }
    return {(e.itn or "", e.sku): (e.license_number, numbers.get(e.line_id, 0)) for e in rows}
