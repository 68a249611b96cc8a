"""Which buttons a user sees: the same pure rules the API and the workflow apply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.actions import Action
from workflows.rules.transitions import OrderFacts, allowed_actions


def actions_for(order: dict[str, Any], actor: Any) -> list[Action]:
    """The actions `actor` may take on the order now; the others get no button at all."""
    return allowed_actions(OrderFacts.from_view(order), actor, datetime.now(UTC).date())
