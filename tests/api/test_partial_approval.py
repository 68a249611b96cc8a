"""Partial approval: BIS approves part of what an order asks, and the order splits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


async def approved(api: ApiHarness, body: dict[str, Any] | None = None) -> str:
    oid = await api.book(body or booking(quantity=10))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    return oid


async def events(api: ApiHarness, oid: str) -> list[dict[str, Any]]:
    r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
    return list(r.json()["items"])


async def test_an_approval_short_of_the_ask_splits_off_the_remainder(api: ApiHarness) -> None:
    oid = await approved(api)
    r = await api.act(oid, "record-license", "carol", license_body("D6600001", quantity=6))
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["state"] == "READY_TO_SHIP"
    assert [(x["sku"], x["quantity"]) for x in order["lines"]] == [("H20", 6)]
    assert order["license"]["quantity"] == 6
    child_id = order["split_into"][0]
    assert child_id == f"{oid}-S1"
    child = await api.wait_state(child_id, "AWAITING_LICENSE")
    assert child["split_from"]["order_id"] == oid
    assert [(x["sku"], x["quantity"]) for x in child["lines"]] == [("H20", 4)]
    assert child["end_user"] == order["end_user"]
    assert child["determination"]["rule_id"] == order["determination"]["rule_id"]
    assert child["license"] is None
    parent_event = (await events(api, oid))[-1]
    assert parent_event["action"] == "record-license"
    assert parent_event["data"]["split_into"] == child_id
    first = (await events(api, child_id))[0]
    assert (first["action"], first["data"]["split_from"]) == ("split-from", oid)
    assert first["actor"] == "carol"
    lic = (await api.http.get("/api/v1/licenses/D6600001", headers=api.auth("vic"))).json()
    assert (lic["approved_quantity"], lic["allocated_quantity"]) == (6, 6)


async def test_the_remainder_gets_its_own_license_and_ships(api: ApiHarness) -> None:
    oid = await approved(api)
    r = await api.act(oid, "record-license", "carol", license_body("D6600002", quantity=7))
    child_id = r.json()["split_into"][0]
    await api.wait_state(child_id, "AWAITING_LICENSE")
    r = await api.act(child_id, "record-license", "alice", license_body("D6600003", quantity=3))
    assert r.status_code == 403  # the remainder was booked by alice too
    r = await api.act(child_id, "record-license", "bob", license_body("D6600003", quantity=3))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "READY_TO_SHIP"
    ship = {"carrier": "DHL", "tracking_number": "T1", "itn": "X20261201000001"}
    assert (await api.act(child_id, "ship", "alice", ship)).status_code == 200
    ship["itn"] = "X20261201000002"
    assert (await api.act(oid, "ship", "alice", ship)).json()["state"] == "SHIPPED"


async def test_a_mixed_order_keeps_its_unlicensed_lines_and_splits_only_the_short_one(
    api: ApiHarness,
) -> None:
    body = booking(quantity=10)
    body["lines"].append({"sku": "RTX-PRO-6000D", "quantity": 5, "unit_price": "8000.00"})
    oid = await approved(api, body)
    terms = license_body("D6600004", quantity=4)
    r = await api.act(oid, "record-license", "carol", terms)
    assert r.status_code == 200, r.text
    lines = [(x["sku"], x["quantity"]) for x in r.json()["lines"]]
    assert lines == [("H20", 4), ("RTX-PRO-6000D", 5)]
    child = await api.wait_state(r.json()["split_into"][0], "AWAITING_LICENSE")
    assert [(x["sku"], x["quantity"]) for x in child["lines"]] == [("H20", 6)]
    assert [d["sku"] for d in child["determination"]["lines"]] == ["H20"]


async def test_partial_approval_refusals(api: ApiHarness) -> None:
    oid = await approved(api)
    # More value than BIS approved for the part it approved: refused, nothing split.
    low = license_body("D6600005", quantity=5, value="1000.00")
    r = await api.act(oid, "record-license", "carol", low)
    assert r.status_code == 409, r.text
    assert "D6600005" in r.json()["detail"]
    order = await api.get(oid)
    assert (order["state"], order["split_into"], order["lines"][0]["quantity"]) == (
        "AWAITING_LICENSE",
        [],
        10,
    )
    r = await api.act(oid, "record-license", "alice", license_body("D6600006", quantity=5))
    assert r.status_code == 403
    bad = license_body("D6600006", quantity=0)
    r = await api.act(oid, "record-license", "carol", bad)
    assert r.status_code == 422
    assert "approved_quantity" in r.text
