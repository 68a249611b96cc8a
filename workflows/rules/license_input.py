"""What a license decision must carry, and what an order draws on a license."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from schemas.actions import LicenseBody, LicenseDecision
from schemas.orders import BookOrderRequest
from workflows.rules.transitions import Refusal, RefusalKind


@dataclass(frozen=True)
class LicenseTerms:
    """An approved license: its number, and its terms when this decision records them."""

    number: str
    approved_quantity: int | None
    approved_value: Decimal | None
    expires_on: date | None


def license_terms(body: LicenseBody, today: date) -> LicenseTerms | None:
    """The approved license's terms; None for a denial or return; `Refusal` when unusable.

    A license already recorded (POST /licenses) needs only its number; a new one needs its
    approved quantity, value and expiry too (checked where licenses are stored).
    """
    if body.decision is not LicenseDecision.APPROVED:
        return None
    if not body.license_number:
        raise Refusal(RefusalKind.INVALID, "license_number: an approved license needs its number")
    if body.expires_on is not None and body.expires_on <= today:
        raise Refusal(RefusalKind.INVALID, f"expires_on: {body.expires_on} is not in the future")
    return LicenseTerms(
        body.license_number, body.approved_quantity, body.approved_value, body.expires_on
    )


def order_draw(booking: BookOrderRequest) -> tuple[int, Decimal]:
    """Quantity and value an order draws on its license: all of its lines."""
    quantity = sum(line.quantity for line in booking.lines)
    value = sum((line.unit_price * line.quantity for line in booking.lines), Decimal(0))
    return quantity, value
