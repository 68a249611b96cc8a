"""EAR Part 762: how long an order's export record must be kept."""

from __future__ import annotations

from datetime import date

from schemas.orders import OrderState
from workflows.rules.deadlines import add_years

RETENTION_YEARS = 5
# Kept five years from the latest of export, reexport or other termination of the transaction.
RETENTION_STARTS = frozenset(
    {
        OrderState.SHIPPED,
        OrderState.DELIVERED,
        OrderState.CANCELLED,
        OrderState.REJECTED,
        OrderState.LICENSE_DENIED,
    }
)


def retention_until(to_state: OrderState, on: date, current: date | None) -> date | None:
    """The record's keep-until date after a move to `to_state` on `on`; never shortened."""
    if to_state not in RETENTION_STARTS:
        return current
    until = add_years(on, RETENTION_YEARS)
    return until if current is None or until > current else current
