"""Bookings and determinations the license rule tests share."""

from __future__ import annotations

from datetime import date
from typing import Any

from schemas.orders import BookOrderRequest, Determination, Party
from workflows.catalog import load_catalog
from workflows.rules.determination import determine, facts_of

TODAY = date(2026, 11, 30)
CLOUD = Party(name="Example Cloud Computing Co., Ltd.", country="CN")
USER = Party(name="Example Inference Services Ltd.", country="CN")


def booking_of(*lines: tuple[str, int, str], **over: Any) -> BookOrderRequest:
    """A booking of these (sku, quantity, unit price) lines; override what a case is about."""
    body: dict[str, Any] = {
        "purchaser": CLOUD.model_dump(),
        "end_user": USER.model_dump(),
        "end_use": "inference",
        "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
        "requested_ship_date": "2027-01-15",
    }
    return BookOrderRequest.model_validate(body | over)


MIXED = booking_of(("H20", 10, "12000.00"), ("RTX-PRO-6000D", 4, "8000.00"), ("H20", 2, "12000.00"))


def determined(booking: BookOrderRequest) -> Determination:
    """The bundled rules' determination of a booking."""
    return determine(facts_of(booking), load_catalog(), None, TODAY)
