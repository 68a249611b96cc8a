"""Which buttons a user sees: the same pure rules the API and the workflow apply."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from schemas.actions import Action
from schemas.orders import OrderState
from workflows.rules.transitions import OrderFacts, allowed_actions


def facts_for(order: dict[str, Any]) -> OrderFacts:
    """The rules' view of an order as the API returns it (`GET /orders/{id}`)."""
    held = order.get("held_from")
    license_ = order.get("license") or {}
    expires = license_.get("expires_on")
    return OrderFacts(
        state=OrderState(order["state"]),
        held_from=OrderState(held) if held else None,
        booked_by=str(order["created_by"]),
        license_expires_on=date.fromisoformat(expires) if expires else None,
        approved_by=frozenset(str(a["by"]) for a in order.get("approvals") or []),
    )


def actions_for(order: dict[str, Any], actor: Any) -> list[Action]:
    """The actions `actor` may take on the order now; the others get no button at all."""
    return allowed_actions(facts_for(order), actor, datetime.now(UTC).date())
