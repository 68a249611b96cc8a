"""Who may do what, when: the table of the order lifecycle."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.actions import Action
from schemas.common import Actor, Role
from schemas.orders import TERMINAL_STATES, OrderState
from workflows.catalog import load_catalog
from workflows.rules.determination import DeterminationFacts, determine
from workflows.rules.transitions import (
    OrderFacts,
    Refusal,
    RefusalKind,
    allowed_actions,
    check_action,
    state_after_approval,
    state_after_screening,
    waiting_for,
)

S = OrderState
TODAY = date(2026, 1, 15)
SALES = Actor(user="alice", roles=frozenset({Role.SALES_OPS}))
COMPLIANCE = Actor(user="bob", roles=frozenset({Role.COMPLIANCE}))
VIEWER = Actor(user="vic", roles=frozenset({Role.VIEWER}))
BOTH = Actor(user="alice", roles=frozenset({Role.SALES_OPS, Role.COMPLIANCE}))


def facts(state: OrderState, held_from: OrderState | None = None, **kw: object) -> OrderFacts:
    # A shipped order has a shipment on its way unless the test says otherwise.
    kw.setdefault("undelivered", 1 if state is S.SHIPPED else 0)
    return OrderFacts(state=state, held_from=held_from, booked_by="alice", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "state", "actor"),
    [
        (Action.CLEAR_SCREENING, S.SCREENING_REVIEW, COMPLIANCE),
        (Action.APPROVE, S.COMPLIANCE_REVIEW, COMPLIANCE),
        (Action.REJECT, S.SCREENING_REVIEW, COMPLIANCE),
        (Action.REJECT, S.COMPLIANCE_REVIEW, COMPLIANCE),
        (Action.RECORD_LICENSE, S.AWAITING_LICENSE, COMPLIANCE),
        (Action.HOLD, S.SHIPPED, COMPLIANCE),
        (Action.HOLD, S.SCREENING, COMPLIANCE),
        (Action.RELEASE, S.ON_HOLD, COMPLIANCE),
        (Action.CANCEL, S.READY_TO_SHIP, SALES),
        (Action.CANCEL, S.BOOKED, SALES),
        (Action.SHIP, S.READY_TO_SHIP, SALES),
        (Action.DELIVER, S.SHIPPED, SALES),
    ],
)
def test_allowed(action: Action, state: OrderState, actor: Actor) -> None:
    check_action(
        facts(state, S.READY_TO_SHIP if state is S.ON_HOLD else None), action, actor, TODAY
    )


@pytest.mark.parametrize(
    ("action", "state", "actor", "kind"),
    [
        (Action.APPROVE, S.COMPLIANCE_REVIEW, SALES, RefusalKind.FORBIDDEN),
        (Action.APPROVE, S.COMPLIANCE_REVIEW, VIEWER, RefusalKind.FORBIDDEN),
        (Action.APPROVE, S.COMPLIANCE_REVIEW, BOTH, RefusalKind.FORBIDDEN),  # booked it
        (Action.CLEAR_SCREENING, S.SCREENING_REVIEW, BOTH, RefusalKind.FORBIDDEN),
        (Action.RECORD_LICENSE, S.AWAITING_LICENSE, BOTH, RefusalKind.FORBIDDEN),
        (Action.APPROVE, S.AWAITING_LICENSE, COMPLIANCE, RefusalKind.CONFLICT),
        (Action.SHIP, S.AWAITING_LICENSE, SALES, RefusalKind.CONFLICT),
        (Action.CANCEL, S.SHIPPED, SALES, RefusalKind.CONFLICT),
        (Action.CANCEL, S.DELIVERED, SALES, RefusalKind.CONFLICT),
        (Action.HOLD, S.CANCELLED, COMPLIANCE, RefusalKind.CONFLICT),
        (Action.HOLD, S.ON_HOLD, COMPLIANCE, RefusalKind.CONFLICT),
        (Action.DELIVER, S.READY_TO_SHIP, SALES, RefusalKind.CONFLICT),
        (Action.SHIP, S.READY_TO_SHIP, COMPLIANCE, RefusalKind.FORBIDDEN),
    ],
)
def test_refused(action: Action, state: OrderState, actor: Actor, kind: RefusalKind) -> None:
    with pytest.raises(Refusal) as info:
        check_action(facts(state), action, actor, TODAY)
    assert info.value.kind is kind


def test_a_role_holder_who_booked_may_still_hold_their_order() -> None:
    check_action(facts(S.COMPLIANCE_REVIEW), Action.HOLD, BOTH, TODAY)


def test_cancel_of_a_held_order_depends_on_where_it_was_held() -> None:
    check_action(facts(S.ON_HOLD, S.AWAITING_LICENSE), Action.CANCEL, SALES, TODAY)
    with pytest.raises(Refusal, match="after shipment"):
        check_action(facts(S.ON_HOLD, S.SHIPPED), Action.CANCEL, SALES, TODAY)


def test_ship_is_refused_once_the_license_has_expired() -> None:
    check_action(facts(S.READY_TO_SHIP, license_expires_on=TODAY), Action.SHIP, SALES, TODAY)
    with pytest.raises(Refusal, match="expired on 2026-01-14"):
        check_action(
            facts(S.READY_TO_SHIP, license_expires_on=date(2026, 1, 14)), Action.SHIP, SALES, TODAY
        )


def test_next_states_follow_the_determination() -> None:
    cat = load_catalog()
    h20 = determine(_facts("H20"), cat, None, TODAY)
    rtx = determine(_facts("RTX-PRO-6000D"), cat, None, TODAY)
    assert state_after_screening(h20, potential_match=False) is S.COMPLIANCE_REVIEW
    assert state_after_screening(rtx, potential_match=False) is S.READY_TO_SHIP
    assert state_after_screening(rtx, potential_match=True) is S.SCREENING_REVIEW
    assert state_after_approval(h20) is S.AWAITING_LICENSE
    assert state_after_approval(rtx) is S.READY_TO_SHIP


def test_an_undecided_order_is_treated_as_needing_a_license() -> None:
    det = determine(_facts("H20"), load_catalog(), None, TODAY)
    undecided = det.model_copy(update={"license_required": None})
    assert state_after_approval(undecided) is S.AWAITING_LICENSE


def _facts(sku: str) -> DeterminationFacts:
    return DeterminationFacts(
        skus=(sku,), destinations=("CN",), headquarters=frozenset(), ship_from="US"
    )


def test_waiting_for_names_the_role_that_must_act() -> None:
    w = waiting_for(S.COMPLIANCE_REVIEW)
    assert w is not None
    assert w.role is Role.COMPLIANCE
    assert w.actions == ["approve", "reject"]
    ready = waiting_for(S.READY_TO_SHIP)
    assert ready is not None
    assert ready.role is Role.SALES_OPS
    assert waiting_for(S.SCREENING) is None
    assert all(waiting_for(s) is None for s in TERMINAL_STATES)


@given(
    state=st.sampled_from(list(S)),
    held=st.sampled_from(list(S)),
    roles=st.frozensets(st.sampled_from(list(Role))),
    user=st.sampled_from(["alice", "bob"]),
)
def test_nothing_is_allowed_on_a_terminal_order_and_nobody_decides_their_own(
    state: OrderState, held: OrderState, roles: frozenset[Role], user: str
) -> None:
    actor = Actor(user=user, roles=roles)
    allowed = allowed_actions(facts(state, held), actor, TODAY)
    if state in TERMINAL_STATES:
        assert allowed == []
    if user == "alice":
        assert not {Action.APPROVE, Action.CLEAR_SCREENING, Action.RECORD_LICENSE} & set(allowed)
    if Role.VIEWER in roles and len(roles) == 1:
        assert allowed == []
