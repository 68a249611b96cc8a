"""Partial approval: BIS approved fewer units than an order asks, so the order splits.

The approved part stays with the order (it draws and ships as approved); the remainder becomes
a new order with the same parties and determination, waiting for a license of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.orders import BookOrderRequest, Determination, OrderLine, Shipment
from schemas.workflow_io import DrawLine
from workflows.rules.shipments import shipped_per_line


def short_terms(draws: Sequence[DrawLine]) -> dict[str, int]:
    """Per SKU, the approved quantity where it is below what the order asks to draw."""
    return {
        d.sku: d.approved_quantity
        for d in draws
        if d.approved_quantity is not None and d.approved_quantity < d.quantity
    }


def split_booking(
    booking: BookOrderRequest, shipments: Sequence[Shipment], approved: dict[str, int]
) -> tuple[BookOrderRequest, BookOrderRequest]:
    """The order as approved, and the remainder as a booking of its own.

    For each short SKU the order keeps what has shipped plus the approved units (filling its
    lines in booking order); the rest of those lines, at their own prices, is the remainder.
    Other lines stay whole with the order.
    """
    budget = dict(approved)
    kept: list[OrderLine] = []
    rest: list[OrderLine] = []
    for line, gone in zip(booking.lines, shipped_per_line(booking, shipments), strict=True):
        if line.sku not in budget:
            kept.append(line)
            continue
        keep = min(line.quantity - gone, budget[line.sku])
        budget[line.sku] -= keep
        if gone + keep:
            kept.append(line.model_copy(update={"quantity": gone + keep}))
        if line.quantity - gone - keep:
            rest.append(line.model_copy(update={"quantity": line.quantity - gone - keep}))
    return (
        booking.model_copy(update={"lines": kept}),
        booking.model_copy(update={"lines": rest}),
    )


def split_determination(det: Determination, booking: BookOrderRequest) -> Determination:
    """The original's determination, for the remainder's lines only."""
    skus = {line.sku for line in booking.lines}
    return det.model_copy(update={"lines": [line for line in det.lines if line.sku in skus]})


def split_order_id(order_id: str, nth: int) -> str:
    """The remainder's order id: the original's, with the split's number (stable on replay)."""
    return f"{order_id}-S{nth}"
