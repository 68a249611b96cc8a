"""Who may take which action in which state, and where each step leads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from schemas.actions import Action
from schemas.common import Actor, Role
from schemas.orders import TERMINAL_STATES, Determination, OrderState, OrderStatus, WaitingFor

S = OrderState

_BEFORE_SHIPMENT = frozenset(
    {
        S.BOOKED,
        S.SCREENING,
        S.SCREENING_REVIEW,
        S.COMPLIANCE_REVIEW,
        S.AWAITING_LICENSE,
        S.READY_TO_SHIP,
    }
)


@dataclass(frozen=True)
class ActionRule:
    """The role an action needs and the states it is allowed in."""

    role: Role
    states: frozenset[OrderState]


ACTION_RULES: dict[Action, ActionRule] = {
    Action.CLEAR_SCREENING: ActionRule(Role.COMPLIANCE, frozenset({S.SCREENING_REVIEW})),
    Action.DISPOSITION: ActionRule(Role.COMPLIANCE, frozenset({S.SCREENING_REVIEW})),
    Action.APPROVE: ActionRule(Role.COMPLIANCE, frozenset({S.COMPLIANCE_REVIEW})),
    Action.REJECT: ActionRule(
        Role.COMPLIANCE, frozenset({S.SCREENING_REVIEW, S.COMPLIANCE_REVIEW})
    ),
    Action.RECORD_LICENSE: ActionRule(Role.COMPLIANCE, frozenset({S.AWAITING_LICENSE})),
    Action.HOLD: ActionRule(Role.COMPLIANCE, frozenset(S) - TERMINAL_STATES - {S.ON_HOLD}),
    Action.RELEASE: ActionRule(Role.COMPLIANCE, frozenset({S.ON_HOLD})),
    Action.CANCEL: ActionRule(Role.SALES_OPS, _BEFORE_SHIPMENT | {S.ON_HOLD}),
    Action.SHIP: ActionRule(Role.SALES_OPS, frozenset({S.READY_TO_SHIP})),
    # A partially shipped order waits READY_TO_SHIP for the rest; its shipments may arrive.
    Action.DELIVER: ActionRule(Role.SALES_OPS, frozenset({S.READY_TO_SHIP, S.SHIPPED})),
    # Not before screening is done (the workflow is still screening the booked parties), not
    # while held (compliance stopped it), not once shipped.
    Action.AMEND: ActionRule(
        Role.SALES_OPS,
        frozenset({S.SCREENING_REVIEW, S.COMPLIANCE_REVIEW, S.AWAITING_LICENSE, S.READY_TO_SHIP}),
    ),
    Action.SUBMIT_APPLICATION: ActionRule(Role.COMPLIANCE, frozenset({S.AWAITING_LICENSE})),
    Action.APPLICATION_STATUS: ActionRule(Role.COMPLIANCE, frozenset({S.AWAITING_LICENSE})),
}

# Actions by which a compliance officer decides on an order; nobody decides on their own order.
_DECISIONS = frozenset(
    {
        Action.CLEAR_SCREENING,
        Action.DISPOSITION,
        Action.APPROVE,
        Action.REJECT,
        Action.RECORD_LICENSE,
        Action.SUBMIT_APPLICATION,
        Action.APPLICATION_STATUS,
    }
)


class RefusalKind(StrEnum):
    """Why an action is refused; the API maps each to a status code."""

    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVALID = "invalid"


class Refusal(Exception):
    """An action that must not happen, with a message a person can read."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class OrderFacts:
    """What the rules need to know about an order to judge an action."""

    state: OrderState
    held_from: OrderState | None
    booked_by: str
    license_expires_on: date | None = None
    approved_by: frozenset[str] = frozenset()
    shipments: int = 0  # how many have left
    undelivered: int = 0  # of those, how many have not arrived
    license_hold: str | None = None  # the license whose suspension holds the order

    @classmethod
    def of(cls, status: OrderStatus, booked_by: str) -> OrderFacts:
        """The facts of an order as its workflow knows it."""
        license_, shipments = status.license, status.all_shipments()
        return cls(
            state=status.state,
            held_from=status.held_from,
            booked_by=booked_by,
            license_expires_on=license_.expires_on if license_ else None,
            approved_by=frozenset(a.by for a in status.approvals),
            shipments=len(shipments),
            undelivered=sum(1 for s in shipments if s.delivered_at is None),
            license_hold=status.license_hold,
        )

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> OrderFacts:
        """The facts of an order as the read model renders it (`GET /orders/{id}`).

        The same facts as `of` gives for the status the view was rendered from; parsing the
        JSON for them is cheaper than validating the whole view.
        """
        held, license_ = view.get("held_from"), view.get("license") or {}
        expires = license_.get("expires_on")
        shipments = view.get("shipments") or ([view["shipment"]] if view.get("shipment") else [])
        return cls(
            state=OrderState(view["state"]),
            held_from=OrderState(held) if held else None,
            booked_by=str(view["created_by"]),
            license_expires_on=date.fromisoformat(expires) if expires else None,
            approved_by=frozenset(str(a["by"]) for a in view.get("approvals") or []),
            shipments=len(shipments),
            undelivered=sum(1 for s in shipments if not s.get("delivered_at")),
            license_hold=view.get("license_hold"),
        )


def check_action(facts: OrderFacts, action: Action, actor: Actor, today: date) -> None:
    """Raise `Refusal` unless `actor` may take `action` on the order now."""
    rule = ACTION_RULES[action]
    if rule.role not in actor.roles:
        raise Refusal(RefusalKind.FORBIDDEN, f"'{action}' needs the {rule.role} role")
    if action in _DECISIONS and actor.user == facts.booked_by:
        raise Refusal(
            RefusalKind.FORBIDDEN,
            f"separation of duties: {actor.user} booked this order and may not '{action}' it",
        )
    if facts.state not in rule.states:
        raise Refusal(RefusalKind.CONFLICT, f"'{action}' is not allowed in state {facts.state}")
    if action is Action.APPROVE and actor.user in facts.approved_by:
        raise Refusal(
            RefusalKind.FORBIDDEN,
            f"four eyes: {actor.user} already approved; another compliance officer must",
        )
    if (
        action is Action.CANCEL
        and facts.state is S.ON_HOLD
        and facts.held_from not in (_BEFORE_SHIPMENT)
    ):
        raise Refusal(RefusalKind.CONFLICT, "an order held after shipment cannot be cancelled")
    if action is Action.SHIP and facts.license_expires_on and facts.license_expires_on < today:
        raise Refusal(
            RefusalKind.CONFLICT, f"the license expired on {facts.license_expires_on.isoformat()}"
        )
    _check_shipments(facts, action)


def _check_shipments(facts: OrderFacts, action: Action) -> None:
    """What partial shipments and license suspensions add to the state rules."""
    if action is Action.DELIVER and not facts.undelivered:
        raise Refusal(
            RefusalKind.CONFLICT,
            f"'deliver' is not allowed in state {facts.state}: no shipment is on its way",
        )
    if action is Action.CANCEL and facts.shipments:
        raise Refusal(
            RefusalKind.CONFLICT,
            "cancel refused: a shipment has left; amend the lines to what has shipped instead",
        )
    if action is Action.RELEASE and facts.license_hold:
        raise Refusal(
            RefusalKind.CONFLICT,
            f"release refused: license {facts.license_hold} is suspended and holds the order; "
            "it is released when the license is reinstated",
        )


def state_after_screening(det: Determination, potential_match: bool) -> OrderState:
    """Where an order goes once screening is done (or a potential match was cleared)."""
    if potential_match:
        return S.SCREENING_REVIEW
    if det.compliance_review_required:
        return S.COMPLIANCE_REVIEW
    return S.READY_TO_SHIP


def state_after_clearance() -> OrderState:
    """A cleared screening hit is a red flag: compliance reviews the order even when NLR."""
    return S.COMPLIANCE_REVIEW


def state_after_approval(det: Determination, *, license_held: bool = False) -> OrderState:
    """Approved orders wait for the license when one is required (and not yet held).

    Fails closed: a determination still undecided counts as license required.
    """
    required = det.license_required is not False
    return S.AWAITING_LICENSE if required and not license_held else S.READY_TO_SHIP


def approvals_needed(total_value: Decimal, threshold: Decimal) -> int:
    """Orders above the threshold need two approvals from two distinct officers."""
    return 2 if total_value > threshold else 1


def waiting_for(state: OrderState) -> WaitingFor | None:
    """Which actions an order in `state` waits for, and from whom; None when nobody acts."""
    if state in TERMINAL_STATES or state in (S.BOOKED, S.SCREENING):
        return None
    primary = {
        S.SCREENING_REVIEW: [Action.CLEAR_SCREENING, Action.DISPOSITION, Action.REJECT],
        S.COMPLIANCE_REVIEW: [Action.APPROVE, Action.REJECT],
        S.AWAITING_LICENSE: [Action.RECORD_LICENSE],
        S.ON_HOLD: [Action.RELEASE],
        S.READY_TO_SHIP: [Action.SHIP],
        S.SHIPPED: [Action.DELIVER],
    }[state]
    role = ACTION_RULES[primary[0]].role
    return WaitingFor(actions=[a.value for a in primary], role=role)


def allowed_actions(facts: OrderFacts, actor: Actor, today: date) -> list[Action]:
    """Every action `actor` may take on the order now."""
    allowed = []
    for action in Action:
        try:
            check_action(facts, action, actor, today)
        except Refusal:
            continue
        allowed.append(action)
    return allowed
