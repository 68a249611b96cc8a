"""What a license decision must carry, and what an order draws on a license."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from schemas.actions import LicenseBody, LicenseDecision
from schemas.orders import BookOrderRequest
from workflows.rules.transitions import Refusal, RefusalKind

_TERMS = ("license_number", "approved_quantity", "approved_value", "expires_on")


@dataclass(frozen=True)
class LicenseTerms:
    """The terms of an approved license, all present."""

    number: str
    approved_quantity: int
    approved_value: Decimal
    expires_on: date


def license_terms(body: LicenseBody, today: date) -> LicenseTerms | None:
    """The approved license's terms; None for a denial or return; `Refusal` when incomplete."""
    if body.decision is not LicenseDecision.APPROVED:
        return None
    missing = [name for name in _TERMS if getattr(body, name) is None]
    if missing:
        raise Refusal(RefusalKind.INVALID, f"an approved license needs {', '.join(missing)}")
    # Narrowing for the type checker: `missing` above proved each is set.
    assert body.license_number is not None
    assert body.approved_quantity is not None
    assert body.approved_value is not None
    assert body.expires_on is not None
    if body.expires_on <= today:
        raise Refusal(RefusalKind.INVALID, f"expires_on {body.expires_on} is not in the future")
    return LicenseTerms(
        body.license_number, body.approved_quantity, body.approved_value, body.expires_on
    )


def order_draw(booking: BookOrderRequest) -> tuple[int, Decimal]:
    """Quantity and value an order draws on its license: all of its lines."""
    quantity = sum(line.quantity for line in booking.lines)
    value = sum((line.unit_price * line.quantity for line in booking.lines), Decimal(0))
    return quantity, value
