"""What a rule set does to an open order: outcome change and where the order goes, as a table."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from schemas.orders import (
    BookOrderRequest,
    Determination,
    OrderState,
    OrderStatus,
    ScreeningResult,
    ScreeningStatus,
)
from schemas.rulesets import OutcomeChange
from tests.harness import booking
from tests.policy_data import EDITS, catalog_with, customs_stop, edited
from workflows.catalog import load_catalog
from workflows.rules.decision import apply_decision
from workflows.rules.determination import determine, facts_of
from workflows.rules.impact import assess

ON = date(2027, 1, 15)
S, C = OrderState, OutcomeChange


def _booking(sku: str, country: str = "CN") -> BookOrderRequest:
    return BookOrderRequest.model_validate(booking(sku=sku, country=country))


def _det(book: BookOrderRequest, edit: str | None = None) -> Determination:
    rules = edited(f"v-{edit}", EDITS[edit]) if edit else load_catalog().ruleset
    return determine(facts_of(book), catalog_with(rules), None, ON)


def _status(state: S, det: Determination, held_from: S | None = None) -> OrderStatus:
    screening = ScreeningResult(status=ScreeningStatus.CLEAR, screened_at=datetime.now(UTC))
    return OrderStatus(state=state, held_from=held_from, determination=det, screening=screening)


CASES = [
    # sku, country, state, held_from, edit, change, to_state
    ("RTX-PRO-6000D", "CN", S.READY_TO_SHIP, None, "rtx_needs_license",
     C.LICENSE_NEWLY_REQUIRED, S.COMPLIANCE_REVIEW),
    ("H20", "CN", S.AWAITING_LICENSE, None, "h20_presumption_of_denial",
     C.POLICY_CHANGED, S.COMPLIANCE_REVIEW),
    ("H20", "CN", S.AWAITING_LICENSE, None, "h20_letter_withdrawn",
     C.LICENSE_NO_LONGER_REQUIRED, S.COMPLIANCE_REVIEW),
    ("H20", "DE", S.READY_TO_SHIP, None, "no_at_only_rule",
     C.COMPLIANCE_REVIEW_NEEDED, S.COMPLIANCE_REVIEW),
    ("H20", "CN", S.AWAITING_LICENSE, None, "customs_stop_h20_cn",
     C.IMPORT_STOPPED, S.ON_HOLD),
    ("H20", "CN", S.ON_HOLD, S.AWAITING_LICENSE, "h20_presumption_of_denial",
     C.POLICY_CHANGED, S.ON_HOLD),  # held by a person: stays held, resumes in review
    ("H20", "CN", S.SCREENING_REVIEW, None, "h20_presumption_of_denial",
     C.POLICY_CHANGED, S.SCREENING_REVIEW),  # screening first, then review anyway
    ("H20", "CN", S.AWAITING_LICENSE, None, "rtx_needs_license", C.UNCHANGED, S.AWAITING_LICENSE),
    ("H20", "DE", S.READY_TO_SHIP, None, "customs_stop_h20_cn", C.UNCHANGED, S.READY_TO_SHIP),
]  # fmt: skip


@pytest.mark.parametrize(("sku", "country", "state", "held", "edit", "change", "to"), CASES)
def test_outcome_change_and_where_the_order_goes(
    sku: str, country: str, state: S, held: S | None, edit: str, change: C, to: S
) -> None:
    book = _booking(sku, country)
    found = assess("ORD-1", book, _status(state, _det(book), held), _det(book, edit))
    assert found is not None
    assert (found.impact.change, found.impact.to_state) == (change, to)
    assert found.impact.units == 10
    assert str(found.impact.value) == "120000.00"


def test_a_customs_stop_holds_the_order_to_resume_where_it_was() -> None:
    book = _booking("H20")
    found = assess(
        "O", book, _status(S.AWAITING_LICENSE, _det(book)), _det(book, "customs_stop_h20_cn")
    )
    assert found is not None
    assert found.plan.held_from is S.AWAITING_LICENSE
    assert found.plan.held_for_import_stop is True
    assert [s.rule_id for s in found.impact.import_stops] == ["STOP-H20-CN"]


def test_a_lifted_stop_resumes_an_order_it_held_but_not_one_a_person_held() -> None:
    book = _booking("H20")
    stopped = _det(book, "customs_stop_h20_cn")
    by_stop = _status(S.ON_HOLD, stopped, S.AWAITING_LICENSE).model_copy(
        update={"held_for_import_stop": True}
    )
    found = assess("O", book, by_stop, _det(book))
    assert found is not None
    assert (found.impact.change, found.impact.to_state) == (
        C.IMPORT_STOP_LIFTED,
        S.AWAITING_LICENSE,
    )
    by_person = _status(S.ON_HOLD, stopped, S.AWAITING_LICENSE)
    found = assess("O", book, by_person, _det(book))
    assert found is not None
    assert found.impact.to_state is S.ON_HOLD


def test_an_officers_decision_on_a_no_rule_line_carries_over() -> None:
    book = _booking("H20", "DE")
    undecided = _det(book, "no_at_only_rule")
    decided = apply_decision(undecided, False, "bob")
    found = assess("O", book, _status(S.READY_TO_SHIP, decided), _det(book, "no_at_only_rule"))
    assert found is not None
    assert found.impact.change is C.UNCHANGED
    assert found.determination.lines[0].decided_by == "bob"


@pytest.mark.parametrize("state", [S.SHIPPED, S.DELIVERED, S.CANCELLED, S.SCREENING])
def test_orders_a_rule_set_can_no_longer_change_are_left_alone(state: S) -> None:
    book = _booking("H20")
    assert assess("O", book, _status(state, _det(book)), _det(book, "customs_stop_h20_cn")) is None


def test_stops_inside_a_mixed_order_hold_it_and_name_the_line() -> None:
    book = BookOrderRequest.model_validate(
        booking() | {"lines": [
            {"sku": "H20", "quantity": 2, "unit_price": "10.00"},
            {"sku": "RTX-PRO-6000D", "quantity": 3, "unit_price": "1.00"},
        ]}
    )  # fmt: skip
    stop = catalog_with(edited("s", customs_stop("RTX-PRO-6000D", "CN")))
    fresh = determine(facts_of(book), stop, None, ON)
    found = assess("O", book, _status(S.AWAITING_LICENSE, _det(book)), fresh)
    assert found is not None
    assert found.impact.change is C.IMPORT_STOPPED
    assert [(s.sku, s.destination) for s in found.impact.import_stops] == [("RTX-PRO-6000D", "CN")]
    assert (found.impact.units, str(found.impact.value)) == (5, "23.00")
