"""The API refuses an action from the order's view; the workflow, from its status. They agree.

`OrderFacts.from_view` reads the rendered `GET /orders/{id}` JSON (the API's precheck) and
`OrderFacts.of` the workflow's `OrderStatus` (its validators). Were they to disagree, the API
would refuse what the workflow allows, or pass on what the workflow then refuses.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from schemas.orders import (
    Approval,
    LicenseAllocation,
    OrderState,
    OrderStatus,
)
from schemas.shipments import Shipment
from services.db.models import OrderRow
from services.db.orders_repo import to_view
from tests.harness import booking
from workflows.rules.transitions import OrderFacts

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
BOOKER = "alice"


def _shipment(n: int, delivered: bool) -> Shipment:
    return Shipment(
        carrier="DHL",
        tracking_number=f"T{n}",
        itn=f"X2026110200000{n}",
        shipped_at=AT,
        shipped_by=BOOKER,
        delivered_at=AT if delivered else None,
    )


LICENSE = LicenseAllocation(
    license_number="D1234567",
    quantity=10,
    value=Decimal("120000.00"),
    expires_on=date(2027, 6, 30),
)
STATUSES = {
    "booked": OrderStatus(state=OrderState.BOOKED),
    "held in review, one approval": OrderStatus(
        state=OrderState.ON_HOLD,
        held_from=OrderState.COMPLIANCE_REVIEW,
        approvals=[Approval(by="bob", at=AT)],
        approvals_needed=2,
    ),
    "licensed, held by its license": OrderStatus(
        state=OrderState.ON_HOLD,
        held_from=OrderState.READY_TO_SHIP,
        approvals=[Approval(by="bob", at=AT), Approval(by="carol", at=AT)],
        license=LICENSE,
        license_hold="D1234567",
    ),
    "two shipments left, one delivered, more to ship": OrderStatus(
        state=OrderState.READY_TO_SHIP,
        license=LICENSE,
        shipment=_shipment(2, delivered=False),
        shipments=[_shipment(1, delivered=True), _shipment(2, delivered=False)],
    ),
    "one shipment from before partial shipments": OrderStatus(
        state=OrderState.SHIPPED, license=LICENSE, shipment=_shipment(1, delivered=False)
    ),
}


def _view(status: OrderStatus) -> dict[str, object]:
    row = OrderRow(
        id="EF-FACTS",
        request_hash="0" * 64,
        created_by=BOOKER,
        created_at=AT,
        updated_at=AT,
        state=status.state.value,
        state_entered_at=AT,
        seq=7,
        destination="CN",
        purchaser_name="Example Cloud Computing Co., Ltd.",
        end_user_name="Example Inference Services Ltd.",
        total_value_cents=12_000_000,
        total_quantity=10,
        booking=booking(),
        status=status.model_dump(mode="json"),
    )
    # The bytes the API's precheck parses: the view as `GET /orders/{id}` sends it.
    return dict(json.loads(to_view(row).model_dump_json()))


@pytest.mark.parametrize("name", list(STATUSES))
def test_facts_from_the_view_are_the_workflows_facts(name: str) -> None:
    status = STATUSES[name]
    assert OrderFacts.from_view(_view(status)) == OrderFacts.of(status, BOOKER)


def test_the_facts_tell_these_orders_apart() -> None:
    # The cases above would prove little if every status gave the same facts.
    facts = {OrderFacts.of(status, BOOKER) for status in STATUSES.values()}
    assert len(facts) == len(STATUSES)
