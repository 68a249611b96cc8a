"""Partial shipments, splits and the state rules they add: table-driven, no IO."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas.actions import Action
from schemas.common import Actor, Role
from schemas.orders import BookOrderRequest, OrderState
from schemas.shipments import Shipment, ShipmentLine
from schemas.workflow_io import DrawLine
from tests.harness import booking
from workflows.rules import shipments as shipping
from workflows.rules import split
from workflows.rules.transitions import OrderFacts, Refusal, RefusalKind, check_action

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def order(*lines: tuple[str, int, str]) -> BookOrderRequest:
    body = booking()
    body["lines"] = [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines]
    return BookOrderRequest.model_validate(body)


def shipment(*lines: tuple[str, int], delivered: bool = False) -> Shipment:
    return Shipment(
        carrier="DHL",
        tracking_number="T",
        itn="X20261201000001",
        shipped_at=NOW,
        shipped_by="alice",
        delivered_at=NOW if delivered else None,
        lines=[ShipmentLine(sku=s, quantity=q) for s, q in lines],
    )


TWO_PRICES = order(("H20", 4, "10000.00"), ("RTX-PRO-6000D", 2, "8000.00"), ("H20", 6, "12000.00"))


@pytest.mark.parametrize(
    ("shipments", "left", "per_line"),
    [
        ([], {"H20": 10, "RTX-PRO-6000D": 2}, [0, 0, 0]),
        ([shipment(("H20", 5))], {"H20": 5, "RTX-PRO-6000D": 2}, [4, 0, 1]),
        ([shipment(("H20", 5)), shipment(("H20", 5), ("RTX-PRO-6000D", 2))], {}, [4, 2, 6]),
        ([shipment()], {}, [4, 2, 6]),  # from before partial shipments: the whole order
    ],
)
def test_what_has_shipped_fills_lines_in_booking_order(
    shipments: list[Shipment], left: dict[str, int], per_line: list[int]
) -> None:
    assert dict(shipping.left(TWO_PRICES, shipments)) == left
    assert shipping.shipped_per_line(TWO_PRICES, shipments) == per_line
    assert shipping.all_shipped(TWO_PRICES, shipments) == (not left)


def test_a_shipment_is_valued_at_the_prices_of_the_lines_it_takes_from() -> None:
    first = [ShipmentLine(sku="H20", quantity=5)]
    assert shipping.shipment_values(TWO_PRICES, [], first) == {"H20": Decimal("52000.00")}
    later = shipping.shipment_values(TWO_PRICES, [shipment(("H20", 5))], first)
    assert later == {"H20": Decimal("60000.00")}


@pytest.mark.parametrize(
    ("asked", "kind", "words"),
    [
        ([("H100-SXM", 1)], RefusalKind.INVALID, "lines[0].sku: H100-SXM is not on this order"),
        ([("H20", 1), ("H20", 2)], RefusalKind.INVALID, "lines[1].sku: H20 is given twice"),
        ([("H20", 6)], RefusalKind.INVALID, "lines[0].quantity: 6 H20 asked, 5 left"),
    ],
)
def test_a_shipment_asks_only_for_what_is_left(
    asked: list[tuple[str, int]], kind: RefusalKind, words: str
) -> None:
    lines = [ShipmentLine(sku=s, quantity=q) for s, q in asked]
    with pytest.raises(Refusal) as refused:
        shipping.shipment_lines(TWO_PRICES, [shipment(("H20", 5))], lines)
    assert refused.value.kind is kind
    assert words in refused.value.message


def test_no_lines_ships_all_that_is_left_and_nothing_left_is_a_conflict() -> None:
    rest = shipping.shipment_lines(TWO_PRICES, [shipment(("H20", 5))], None)
    assert [(x.sku, x.quantity) for x in rest] == [("H20", 5), ("RTX-PRO-6000D", 2)]
    with pytest.raises(Refusal) as refused:
        shipping.shipment_lines(TWO_PRICES, [shipment()], None)
    assert refused.value.kind is RefusalKind.CONFLICT


def test_an_amendment_keeps_what_has_shipped() -> None:
    shipped = [shipment(("H20", 7))]
    shipping.check_keeps_shipped(order(("H20", 7, "12000.00")), shipped)
    with pytest.raises(Refusal) as refused:
        shipping.check_keeps_shipped(order(("H20", 6, "12000.00")), shipped)
    assert refused.value.message == "lines: 7 H20 have shipped; the amended order asks 6"


@pytest.mark.parametrize(
    ("shipments", "index", "result", "kind"),
    [
        ([shipment(("H20", 1)), shipment(("H20", 1))], None, [0, 1], None),
        ([shipment(("H20", 1), delivered=True), shipment(("H20", 1))], None, [1], None),
        ([shipment(("H20", 1))], 0, [0], None),
        ([shipment(("H20", 1), delivered=True)], 0, None, RefusalKind.CONFLICT),
        ([shipment(("H20", 1))], 1, None, RefusalKind.INVALID),
        ([shipment(("H20", 1), delivered=True)], None, None, RefusalKind.CONFLICT),
    ],
)
def test_deliveries(
    shipments: list[Shipment], index: int | None, result: list[int] | None, kind: Any
) -> None:
    if kind is None:
        assert shipping.check_delivery(shipments, index) == result
        return
    with pytest.raises(Refusal) as refused:
        shipping.check_delivery(shipments, index)
    assert refused.value.kind is kind


def test_a_split_keeps_shipped_and_approved_units_and_the_rest_goes_to_the_remainder() -> None:
    kept, rest = split.split_booking(TWO_PRICES, [shipment(("H20", 2))], {"H20": 5})
    assert [(x.sku, x.quantity, str(x.unit_price)) for x in kept.lines] == [
        ("H20", 4, "10000.00"),
        ("RTX-PRO-6000D", 2, "8000.00"),
        ("H20", 3, "12000.00"),
    ]
    assert [(x.sku, x.quantity, str(x.unit_price)) for x in rest.lines] == [("H20", 3, "12000.00")]
    assert rest.end_user == TWO_PRICES.end_user
    assert split.split_order_id("ORD-1", 2) == "ORD-1-S2"


def test_only_terms_short_of_the_ask_split() -> None:
    def draw(quantity: int, approved: int | None) -> DrawLine:
        return DrawLine(sku="H20", quantity=quantity, value=Decimal(1), approved_quantity=approved)

    assert split.short_terms([draw(10, 4)]) == {"H20": 4}
    assert split.short_terms([draw(10, 10), draw(10, None), draw(10, 12)]) == {}


SALES = Actor(user="alice", roles=frozenset({Role.SALES_OPS}))
OFFICER = Actor(user="bob", roles=frozenset({Role.COMPLIANCE}))


@pytest.mark.parametrize(
    ("facts", "action", "actor", "words"),
    [
        ({"state": OrderState.READY_TO_SHIP}, Action.DELIVER, SALES, "no shipment is on its way"),
        (
            {"state": OrderState.SHIPPED, "shipments": 2, "undelivered": 0},
            Action.DELIVER,
            SALES,
            "no shipment is on its way",
        ),
        (
            {"state": OrderState.READY_TO_SHIP, "shipments": 1, "undelivered": 1},
            Action.CANCEL,
            SALES,
            "a shipment has left",
        ),
        (
            {
                "state": OrderState.ON_HOLD,
                "held_from": OrderState.READY_TO_SHIP,
                "license_hold": "D1",
            },
            Action.RELEASE,
            OFFICER,
            "license D1 is suspended",
        ),
    ],
)
def test_state_rules_of_shipments_and_license_holds(
    facts: dict[str, Any], action: Action, actor: Actor, words: str
) -> None:
    full = OrderFacts(booked_by="dave", **({"held_from": None} | facts))
    with pytest.raises(Refusal) as refused:
        check_action(full, action, actor, date(2026, 12, 1))
    assert refused.value.kind is RefusalKind.CONFLICT
    assert words in refused.value.message


def test_a_partly_shipped_order_may_have_a_shipment_delivered() -> None:
    facts = OrderFacts(
        state=OrderState.READY_TO_SHIP, held_from=None, booked_by="dave", shipments=1, undelivered=1
    )
    check_action(facts, Action.DELIVER, SALES, date(2026, 12, 1))
