"""Orders moved through every path of the lifecycle over the API, on real Temporal and DB."""

from __future__ import annotations

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


async def test_h20_order_goes_from_booking_to_delivery(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20", quantity=10, price="12000.00"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["license_required"] is True
    assert order["determination"]["rule_id"] == "IS-INFORMED-2025-04-H20"
    assert order["determination"]["license_code"] == "C30"
    assert order["waiting_for"] == {"actions": ["approve", "reject"], "role": "compliance"}
    assert order["screening"]["status"] == "clear"
    assert order["total_value"] == "120000.00"

    r = await api.act(oid, "approve", "bob", {"note": "end-use statement on file"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "AWAITING_LICENSE"
    assert r.json()["waiting_for"]["actions"] == ["record-license"]

    r = await api.act(oid, "record-license", "carol", license_body("D1234567"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "READY_TO_SHIP"
    assert r.json()["license"]["license_number"] == "D1234567"

    ship = {"carrier": "DHL", "tracking_number": "JD0001", "itn": "X20261128000001"}
    r = await api.act(oid, "ship", "alice", ship)
    assert r.status_code == 200, r.text
    snapshot = r.json()["screening"]["snapshot_id"]
    assert r.json()["shipment"]["itn"] == "X20261128000001"
    r = await api.act(oid, "deliver", "alice")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "DELIVERED"
    assert r.json()["waiting_for"] is None

    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()
    trail = [
        (e["seq"], e["action"], e["from_state"], e["to_state"], e["actor"]) for e in events["items"]
    ]
    assert trail == [
        (0, "book", None, "BOOKED", "alice"),
        (1, "screen", "BOOKED", "SCREENING", "system"),
        (2, "screened", "SCREENING", "COMPLIANCE_REVIEW", "system"),
        (3, "approve", "COMPLIANCE_REVIEW", "AWAITING_LICENSE", "bob"),
        (4, "record-license", "AWAITING_LICENSE", "READY_TO_SHIP", "carol"),
        (5, "ship", "READY_TO_SHIP", "SHIPPED", "alice"),
        (6, "deliver", "SHIPPED", "DELIVERED", "alice"),
    ]
    assert events["items"][3]["reason"] == "end-use statement on file"
    # Every party was screened again just before the goods left; the ship event says so.
    rescreen = events["items"][5]["data"]["rescreen"]
    assert rescreen["open_hits"] == []
    assert rescreen["snapshot_id"] == snapshot


async def test_rtx_pro_needs_no_license_and_skips_compliance(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D"))
    order = await api.wait_state(oid, "READY_TO_SHIP")
    assert order["license_required"] is False
    assert order["determination"]["license_code"] == "C33"
    assert order["determination"]["rule_id"] == "RTX-PRO-DESIGNED-TO-COMPLY"


async def test_listed_end_user_stops_in_screening_review_until_cleared(
    api: ApiHarness, listed_name: str
) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D", end_user=listed_name))
    order = await api.wait_state(oid, "SCREENING_REVIEW")
    hit = order["screening"]["hits"][0]
    assert hit["party"] == "end_user"
    assert hit["score"] >= 88
    assert hit["source"]
    assert order["waiting_for"]["actions"] == ["clear-screening", "disposition", "reject"]

    r = await api.act(oid, "clear-screening", "bob", {"reason": "different legal entity"})
    assert r.status_code == 200, r.text
    # A cleared hit is a red flag: compliance reviews even a no-license order.
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert r.json()["screening"]["status"] == "cleared"
    assert r.json()["screening"]["cleared_by"] == "bob"
    r = await api.act(oid, "approve", "carol", {})
    assert r.json()["state"] == "READY_TO_SHIP"


async def test_compliance_can_reject_a_screening_match(api: ApiHarness, listed_name: str) -> None:
    oid = await api.book(booking(end_user=listed_name))
    await api.wait_state(oid, "SCREENING_REVIEW")
    r = await api.act(oid, "reject", "bob", {"reason": "verified match on the MEU list"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "REJECTED"


async def test_h100_reexported_to_china_stops_at_compliance_with_presumption_of_denial(
    api: ApiHarness,
) -> None:
    oid = await api.book({**booking(sku="H100-SXM"), "ship_from": "TW"})
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["determination"]["policy"] == "presumption_of_denial"
    assert order["determination"]["ship_from"] == "TW"
    r = await api.act(oid, "reject", "bob", {"reason": "policy of denial"})
    assert r.json()["state"] == "REJECTED"


async def test_h100_exported_from_the_us_to_china_is_case_by_case_with_conditions(
    api: ApiHarness,
) -> None:
    oid = await api.book(booking(sku="H100-SXM"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    (line,) = order["determination"]["lines"]
    assert line["policy"] == "case_by_case"
    assert any("lab test" in c for c in line["conditions"])


async def test_license_denied_and_returned(api: ApiHarness) -> None:
    denied = await api.book()
    returned = await api.book()
    for oid in (denied, returned):
        await api.wait_state(oid, "COMPLIANCE_REVIEW")
        assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(denied, "record-license", "bob", {"decision": "denied", "reason": "BIS"})
    assert r.json()["state"] == "LICENSE_DENIED"
    r = await api.act(returned, "record-license", "bob", {"decision": "returned"})
    assert r.json()["state"] == "AWAITING_LICENSE"
    events = (
        await api.http.get(f"/api/v1/orders/{returned}/events", headers=api.auth("vic"))
    ).json()["items"]
    assert events[-1]["data"] == {"decision": "returned", "resubmission": 1}
    r = await api.act(returned, "record-license", "bob", license_body("D7000001"))
    assert r.json()["state"] == "READY_TO_SHIP"


async def test_hold_stops_an_order_and_release_returns_it(api: ApiHarness) -> None:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(oid, "hold", "bob", {"reason": "customer under review"})
    assert r.json()["state"] == "ON_HOLD"
    assert r.json()["held_from"] == "COMPLIANCE_REVIEW"
    r = await api.act(oid, "approve", "carol", {})
    assert r.status_code == 409
    assert "ON_HOLD" in r.json()["detail"]
    r = await api.act(oid, "release", "carol", {"reason": "review done"})
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert r.json()["held_from"] is None


async def test_cancel_releases_the_license_allocation(api: ApiHarness) -> None:
    oid = await api.book(booking(quantity=40, price="1000.00"))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {})
    await api.act(oid, "record-license", "bob", license_body("D2000001", 100, "100000.00"))
    lic = (await api.http.get("/api/v1/licenses/D2000001", headers=api.auth("vic"))).json()
    assert (lic["allocated_quantity"], lic["remaining_quantity"]) == (40, 60)
    r = await api.act(oid, "cancel", "alice", {"reason": "customer withdrew"})
    assert r.json()["state"] == "CANCELLED"
    lic = (await api.http.get("/api/v1/licenses/D2000001", headers=api.auth("vic"))).json()
    assert (lic["allocated_quantity"], lic["remaining_quantity"]) == (0, 100)
    assert lic["orders"][0]["released"] is True
    r = await api.act(
        oid, "ship", "alice", {"carrier": "x", "tracking_number": "y", "itn": "X20261128000002"}
    )
    assert r.status_code == 409
