"""What a license decision must carry, and what an order draws on a license, line by line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from schemas.actions import LicenseBody, LicenseDecision
from schemas.licenses import LicenseParties
from schemas.orders import BookOrderRequest, Determination
from schemas.workflow_io import DrawLine
from workflows.rules.transitions import Refusal, RefusalKind


@dataclass(frozen=True)
class LicenseTerms:
    """An approved license: its number, and its expiry when this decision records it."""

    number: str
    expires_on: date | None


def license_terms(body: LicenseBody, today: date) -> LicenseTerms | None:
    """The approved license's terms; None for a denial or return; `Refusal` when unusable.

    A license already recorded (POST /licenses) needs only its number; a new one needs its
    lines' approved quantity and value and its expiry too (checked where licenses are stored).
    """
    if body.decision is not LicenseDecision.APPROVED:
        return None
    if not body.license_number:
        raise Refusal(RefusalKind.INVALID, "license_number: an approved license needs its number")
    if body.expires_on is not None and body.expires_on <= today:
        raise Refusal(RefusalKind.INVALID, f"expires_on: {body.expires_on} is not in the future")
    return LicenseTerms(body.license_number, body.expires_on)


def order_draw(booking: BookOrderRequest) -> tuple[int, Decimal]:
    """Quantity and value of all of an order's lines."""
    quantity = sum(line.quantity for line in booking.lines)
    value = sum((line.unit_price * line.quantity for line in booking.lines), Decimal(0))
    return quantity, value


def licensed_skus(booking: BookOrderRequest, det: Determination | None) -> list[str]:
    """The order's items that draw on a license: its licensed lines, in booking order."""
    return licensed_among([line.sku for line in booking.lines], det)


def licensed_among(skus: Sequence[str], det: Determination | None) -> list[str]:
    """Those of `skus` (an order's, in its order) that need a license, each once.

    A determination from before per-line outcomes says only "license required" for the
    order: then every item draws, as it did then.
    """
    unique = list(dict.fromkeys(skus))
    licensed = det.licensed_skus() if det is not None else []
    return unique if "*" in licensed else [s for s in unique if s in licensed]


def order_parties(booking: BookOrderRequest) -> LicenseParties:
    """The order's parties as a license names them."""
    return LicenseParties(
        ultimate_consignee=booking.consignee(),
        end_user=booking.end_user,
        intermediate_consignees=list(booking.intermediate_consignees),
    )


def check_line_terms(body: LicenseBody, licensed: Sequence[str]) -> None:
    """Refuse (422 naming `lines`) terms that would pool items or miss a licensed line."""
    pooled = body.approved_quantity is not None or body.approved_value is not None
    if body.lines is not None and pooled:
        raise Refusal(
            RefusalKind.INVALID,
            "lines: give lines, or approved_quantity and approved_value, not both",
        )
    if pooled and len(licensed) > 1:
        raise Refusal(
            RefusalKind.INVALID,
            f"lines: the order has {len(licensed)} licensed lines ({', '.join(licensed)}); one "
            "approved_quantity and approved_value would pool them: give lines, one per SKU",
        )
    if body.lines is None:
        return
    named = [t.sku for t in body.lines]
    for i, sku in enumerate(named):
        if sku not in licensed:
            raise Refusal(
                RefusalKind.INVALID,
                f"lines[{i}].sku: {sku} is not a licensed line of this order "
                f"(licensed: {', '.join(licensed) or 'none'})",
            )
        if named.index(sku) != i:
            raise Refusal(RefusalKind.INVALID, f"lines[{i}].sku: {sku} is given twice")
    missing = [s for s in licensed if s not in named]
    if missing:
        raise Refusal(RefusalKind.INVALID, f"lines: no terms for {', '.join(missing)}")


def draw_lines(
    booking: BookOrderRequest, det: Determination | None, body: LicenseBody | None = None
) -> list[DrawLine]:
    """One draw per licensed item: its quantity and value, and the decision's terms for it.

    Lenient on purpose (the update's validator has refused bad terms with
    `check_line_terms`): it also rebuilds the draws of decisions already in a history.
    Without a body (a redraw on the license held), the draws carry no terms.
    """
    skus = licensed_skus(booking, det)
    eccns = {line.sku: line.eccn for line in det.lines} if det is not None else {}
    terms = (
        {t.sku: (t.approved_quantity, t.approved_value) for t in body.lines or []} if body else {}
    )
    if (
        body is not None
        and body.approved_quantity is not None
        and body.approved_value is not None
        and len(skus) == 1
    ):
        terms = {skus[0]: (body.approved_quantity, body.approved_value)}
    draws = []
    for sku in skus:
        lines = [line for line in booking.lines if line.sku == sku]
        approved = terms.get(sku)
        draws.append(
            DrawLine(
                sku=sku,
                eccn=eccns.get(sku),
                quantity=sum(line.quantity for line in lines),
                value=sum((line.unit_price * line.quantity for line in lines), Decimal(0)),
                approved_quantity=approved[0] if approved else None,
                approved_value=approved[1] if approved else None,
            )
        )
    return draws
