"""What an amendment changes, and which changes are material."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from schemas.actions import AmendBody
from schemas.orders import BookOrderRequest
from workflows.rules.amend import amended, changed_parties, diff, material_changes
from workflows.rules.transitions import Refusal

BASE: dict[str, Any] = {
    "purchaser": {"name": "P Co", "country": "CN"},
    "end_user": {"name": "E Co", "country": "CN"},
    "end_use": "inference",
    "lines": [{"sku": "H20", "quantity": 10, "unit_price": "100.00"}],
    "requested_ship_date": "2027-01-04",
}


def change(**fields: Any) -> tuple[BookOrderRequest, BookOrderRequest]:
    before = BookOrderRequest.model_validate(BASE)
    return before, amended(before, AmendBody.model_validate({"reason": "customer", **fields}))


@pytest.mark.parametrize(
    ("fields", "reasons"),
    [
        ({"lines": [{"sku": "H20", "quantity": 8, "unit_price": "100.00"}]}, []),
        ({"requested_ship_date": "2027-02-01"}, []),
        (
            {"lines": [{"sku": "H20", "quantity": 12, "unit_price": "100.00"}]},
            ["more units", "more value"],
        ),
        ({"lines": [{"sku": "H20", "quantity": 10, "unit_price": "120.00"}]}, ["more value"]),
        (
            {
                "lines": [
                    {"sku": "H20", "quantity": 5, "unit_price": "100.00"},
                    {"sku": "RTX-PRO-6000D", "quantity": 1, "unit_price": "1.00"},
                ]
            },
            ["new SKU RTX-PRO-6000D"],
        ),
        (
            {"end_user": {"name": "E Co", "country": "SG"}},
            ["end user changed", "destination changed"],
        ),
        ({"ultimate_consignee": {"name": "U", "country": "CN"}}, ["ultimate consignee changed"]),
        ({"end_use": "training"}, ["end use changed"]),
    ],
)
def test_material_changes(fields: dict[str, Any], reasons: list[str]) -> None:
    before, after = change(**fields)
    assert material_changes(before, after) == reasons


def test_the_diff_names_each_field_before_and_after() -> None:
    before, after = change(requested_ship_date="2027-02-01", end_use="training")
    assert diff(before, after) == {
        "requested_ship_date": {"before": "2027-01-04", "after": "2027-02-01"},
        "end_use": {"before": "inference", "after": "training"},
    }
    assert after.purchaser == before.purchaser  # omitted fields stay


def test_changed_parties_are_the_ones_screened_again() -> None:
    before, after = change(
        end_user={"name": "Other", "country": "CN"},
        intermediate_consignees=[{"name": "F", "country": "HK"}],
    )
    assert changed_parties(before, after) == ["end_user", "intermediate_consignee_1"]


def test_an_amendment_must_change_something() -> None:
    before = BookOrderRequest.model_validate(BASE)
    with pytest.raises(Refusal, match="at least one field"):
        amended(before, AmendBody(reason="nothing"))


def test_dates_stay_dates() -> None:
    _, after = change(requested_ship_date="2027-03-01")
    assert after.requested_ship_date == date(2027, 3, 1)
