"""Preview totals: orders, units and value by change, per SKU (stops on their SKU) and place."""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.orders import (
    BookOrderRequest,
    OrderState,
    OrderStatus,
    ScreeningResult,
    ScreeningStatus,
)
from services.policy.impact import Totals
from tests.harness import booking
from tests.policy_data import catalog_with, customs_stop, edited
from workflows.catalog import load_catalog
from workflows.rules.determination import determine, facts_of
from workflows.rules.impact import assess

ON = date(2027, 1, 15)


def test_a_stop_on_one_line_of_a_mixed_order_counts_on_that_sku_only() -> None:
    book = BookOrderRequest.model_validate(
        booking()
        | {
            "lines": [
                {"sku": "H20", "quantity": 2, "unit_price": "10.00"},
                {"sku": "RTX-PRO-6000D", "quantity": 3, "unit_price": "1.00"},
            ]
        }
    )
    now = determine(facts_of(book), load_catalog(), None, ON)
    status = OrderStatus(
        state=OrderState.AWAITING_LICENSE,
        determination=now,
        screening=ScreeningResult(status=ScreeningStatus.CLEAR, screened_at=datetime.now(UTC)),
    )
    then = determine(facts_of(book), catalog_with(edited("s", customs_stop("H20"))), None, ON)
    found = assess("O", book, status, then)
    assert found is not None
    totals = Totals()
    totals.add(found.impact, book)
    by_change, by_sku, by_dest = totals.rows()
    assert [(t.change.value, t.orders, t.units, str(t.value)) for t in by_change] == [
        ("import_stopped", 1, 5, "23.00")
    ]
    assert [(t.sku, t.change.value, t.units, str(t.value)) for t in by_sku] == [
        ("H20", "import_stopped", 2, "20.00"),
        ("RTX-PRO-6000D", "unchanged", 3, "3.00"),
    ]
    assert [(t.destination, t.change.value) for t in by_dest] == [("CN", "import_stopped")]
