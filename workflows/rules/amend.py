"""Amending a booked order: what changed, and whether the change is material.

A material change (more units or value, a new SKU, a new or changed party, destination or end
use) voids the approvals and sends the order back through screening and compliance review.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from schemas.actions import AmendBody
from schemas.orders import BookOrderRequest
from workflows.rules.license_input import order_draw
from workflows.rules.transitions import Refusal, RefusalKind

AMENDABLE = (
    "lines",
    "purchaser",
    "end_user",
    "ultimate_consignee",
    "intermediate_consignees",
    "requested_ship_date",
    "end_use",
)
_PARTIES = ("purchaser", "end_user", "ultimate_consignee", "intermediate_consignees")


def amended(booking: BookOrderRequest, body: AmendBody) -> BookOrderRequest:
    """The booking with the body's fields in place of its own; omitted fields stay."""
    given = {f: getattr(body, f) for f in AMENDABLE if getattr(body, f) is not None}
    if not given:
        raise Refusal(RefusalKind.INVALID, "amend: give at least one field to change")
    try:
        return BookOrderRequest.model_validate(booking.model_dump() | given)
    except ValueError as exc:
        raise Refusal(RefusalKind.INVALID, f"amend: {exc}") from None


def diff(before: BookOrderRequest, after: BookOrderRequest) -> dict[str, dict[str, Any]]:
    """Every changed field with its value before and after (JSON-ready)."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {f: {"before": old[f], "after": new[f]} for f in AMENDABLE if old.get(f) != new.get(f)}


def material_changes(before: BookOrderRequest, after: BookOrderRequest) -> list[str]:
    """Why the change needs screening and review again; empty when it does not."""
    reasons = []
    qty_before, value_before = order_draw(before)
    qty_after, value_after = order_draw(after)
    units_before = Counter({line.sku: 0 for line in before.lines})
    units_after: Counter[str] = Counter()
    for line in before.lines:
        units_before[line.sku] += line.quantity
    for line in after.lines:
        units_after[line.sku] += line.quantity
    if new_skus := sorted(set(units_after) - set(units_before)):
        reasons.append(f"new SKU {', '.join(new_skus)}")
    if qty_after > qty_before or any(units_after[s] > units_before[s] for s in units_before):
        reasons.append("more units")
    if value_after > value_before:
        reasons.append("more value")
    changed = diff(before, after)
    reasons += [f"{p.replace('_', ' ')} changed" for p in _PARTIES if p in changed]
    if before.consignee().country != after.consignee().country:
        reasons.append("destination changed")
    if "end_use" in changed:
        reasons.append("end use changed")
    return reasons


def changed_parties(before: BookOrderRequest, after: BookOrderRequest) -> list[str]:
    """Roles of the parties that are new or differ: these are screened again."""
    old, new = before.parties(), after.parties()
    return [role for role, party in new.items() if old.get(role) != party]
