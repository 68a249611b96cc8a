"""Partial shipments: what of an order has shipped, what is left, and what a shipment may take.

An order's lines are counted per SKU (a shipment names SKUs, not booking lines); where one SKU
is on several lines, shipped units fill those lines in booking order, at their own prices.
Shipments recorded before partial shipments existed carry no lines: the whole order left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from schemas.orders import BookOrderRequest, OrderLine, Shipment, ShipmentLine
from workflows.rules.transitions import Refusal, RefusalKind


def ordered(booking: BookOrderRequest) -> Counter[str]:
    """Units ordered per SKU."""
    units: Counter[str] = Counter()
    for line in booking.lines:
        units[line.sku] += line.quantity
    return units


def shipped(booking: BookOrderRequest, shipments: Sequence[Shipment]) -> Counter[str]:
    """Units shipped per SKU; a shipment without lines took the whole order."""
    units: Counter[str] = Counter()
    for s in shipments:
        if not s.lines:
            return ordered(booking)
        for line in s.lines:
            units[line.sku] += line.quantity
    return units


def left(booking: BookOrderRequest, shipments: Sequence[Shipment]) -> Counter[str]:
    """Units still to ship per SKU (only SKUs with some left)."""
    gone = shipped(booking, shipments)
    return Counter({sku: n - gone[sku] for sku, n in ordered(booking).items() if n > gone[sku]})


def all_shipped(booking: BookOrderRequest, shipments: Sequence[Shipment]) -> bool:
    """True once every unit of every line has shipped."""
    return bool(shipments) and not left(booking, shipments)


def shipped_per_line(booking: BookOrderRequest, shipments: Sequence[Shipment]) -> list[int]:
    """Units shipped of each booking line, filling lines of one SKU in booking order."""
    budget = shipped(booking, shipments)
    per_line = []
    for line in booking.lines:
        take = min(line.quantity, budget[line.sku])
        budget[line.sku] -= take
        per_line.append(take)
    return per_line


def remaining_lines(booking: BookOrderRequest, shipments: Sequence[Shipment]) -> list[OrderLine]:
    """The booking's lines reduced by what has shipped (lines fully shipped left out)."""
    lines = []
    for line, gone in zip(booking.lines, shipped_per_line(booking, shipments), strict=True):
        if line.quantity > gone:
            lines.append(line.model_copy(update={"quantity": line.quantity - gone}))
    return lines


def shipment_lines(
    booking: BookOrderRequest, shipments: Sequence[Shipment], asked: list[ShipmentLine] | None
) -> list[ShipmentLine]:
    """What this shipment takes: `asked`, checked against what is left, or all that is left.

    Refused (422 naming the field) for an SKU not on the order, given twice, or more than is
    left of it; (409) when nothing is left to ship.
    """
    remaining = left(booking, shipments)
    if not remaining:
        raise Refusal(RefusalKind.CONFLICT, "ship refused: every line has shipped already")
    if asked is None:
        return [ShipmentLine(sku=sku, quantity=n) for sku, n in remaining.items()]
    seen: set[str] = set()
    for i, line in enumerate(asked):
        if line.sku not in ordered(booking):
            raise Refusal(RefusalKind.INVALID, f"lines[{i}].sku: {line.sku} is not on this order")
        if line.sku in seen:
            raise Refusal(RefusalKind.INVALID, f"lines[{i}].sku: {line.sku} is given twice")
        seen.add(line.sku)
        if line.quantity > remaining[line.sku]:
            raise Refusal(
                RefusalKind.INVALID,
                f"lines[{i}].quantity: {line.quantity} {line.sku} asked, "
                f"{remaining[line.sku]} left to ship",
            )
    return list(asked)


def shipment_values(
    booking: BookOrderRequest, shipments: Sequence[Shipment], lines: Sequence[ShipmentLine]
) -> dict[str, Decimal]:
    """Value per SKU of a shipment: its units at the prices of the lines they come from."""
    remaining = remaining_lines(booking, shipments)
    values: dict[str, Decimal] = {}
    for want in lines:
        need, value = want.quantity, Decimal(0)
        for line in remaining:
            if line.sku == want.sku and need:
                take = min(need, line.quantity)
                value += take * line.unit_price
                need -= take
        values[want.sku] = value
    return values


def check_keeps_shipped(after: BookOrderRequest, shipments: Sequence[Shipment]) -> None:
    """An amendment may not ask fewer units of an SKU than have shipped (409 naming it)."""
    if not shipments:
        return
    now = ordered(after)
    for sku, n in sorted(shipped(after, shipments).items()):
        if now[sku] < n:
            raise Refusal(
                RefusalKind.CONFLICT,
                f"lines: {n} {sku} have shipped; the amended order asks {now[sku]}",
            )


def undelivered(shipments: Sequence[Shipment]) -> list[int]:
    """Indexes of shipments not yet delivered."""
    return [i for i, s in enumerate(shipments) if s.delivered_at is None]


def check_delivery(shipments: Sequence[Shipment], index: int | None) -> list[int]:
    """Which shipments a delivery marks: the one given, or every one still on its way."""
    if index is None:
        waiting = undelivered(shipments)
        if not waiting:
            raise Refusal(RefusalKind.CONFLICT, "deliver refused: every shipment is delivered")
        return waiting
    if index >= len(shipments):
        raise Refusal(
            RefusalKind.INVALID,
            f"shipment: the order has {len(shipments)} shipment(s), numbered from 0",
        )
    if shipments[index].delivered_at is not None:
        raise Refusal(RefusalKind.CONFLICT, f"shipment {index} is delivered already")
    return [index]
