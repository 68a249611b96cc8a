"""Amendments over the API: diffs in the trail, material changes reviewed again, redraws."""

from __future__ import annotations

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


def lines(quantity: int, sku: str = "H20", price: str = "12000.00") -> list[dict[str, object]]:
    return [{"sku": sku, "quantity": quantity, "unit_price": price}]


async def licensed(api: ApiHarness, number: str, quantity: int = 10) -> str:
    oid = await api.book(booking(quantity=quantity))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(oid, "record-license", "carol", license_body(number, quantity=12))
    assert r.status_code == 200, r.text
    return oid


async def events(api: ApiHarness, oid: str) -> list[dict[str, object]]:
    r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
    return list(r.json()["items"])


async def test_a_smaller_quantity_releases_the_difference_and_keeps_the_order_ready(
    api: ApiHarness,
) -> None:
    oid = await licensed(api, "D8800001")
    r = await api.act(oid, "amend", "alice", {"reason": "customer cut", "lines": lines(6)})
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["state"] == "READY_TO_SHIP"
    assert order["total_quantity"] == 6
    assert order["license"]["quantity"] == 6
    lic = (await api.http.get("/api/v1/licenses/D8800001", headers=api.auth("vic"))).json()
    assert lic["allocated_quantity"] == 6
    last = (await events(api, oid))[-1]
    assert last["action"] == "amend"
    assert last["data"]["diff"]["lines"]["before"][0]["quantity"] == 10
    assert last["data"]["material"] == []


async def test_more_units_go_back_to_compliance_and_past_the_license_wait_for_one(
    api: ApiHarness,
) -> None:
    oid = await licensed(api, "D8800002")
    r = await api.act(oid, "amend", "alice", {"reason": "customer wants more", "lines": lines(20)})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert r.json()["approvals"] == []
    assert r.json()["license"] is None  # 20 units do not fit a license for 12
    assert "more units" in (await events(api, oid))[-1]["data"]["material"]
    r = await api.act(oid, "approve", "bob", {})
    assert r.json()["state"] == "AWAITING_LICENSE"


async def test_a_new_end_user_the_license_does_not_name_loses_the_draw(api: ApiHarness) -> None:
    oid = await licensed(api, "D8800004")
    body = {"reason": "new end user", "end_user": {"name": "Other Labs Ltd.", "country": "CN"}}
    r = await api.act(oid, "amend", "alice", body)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert r.json()["license"] is None  # D8800004 names the old end user
    assert (await events(api, oid))[-1]["data"]["license"]["redrawn"] is False
    lic = (await api.http.get("/api/v1/licenses/D8800004", headers=api.auth("vic"))).json()
    assert lic["allocated_quantity"] == 0
    r = await api.act(oid, "approve", "bob", {})
    assert r.json()["state"] == "AWAITING_LICENSE"  # not READY_TO_SHIP on a license for others


async def test_a_new_purchaser_keeps_the_draw_the_license_still_covers(api: ApiHarness) -> None:
    oid = await licensed(api, "D8800005")
    body = {"reason": "reseller", "purchaser": {"name": "Other Trading Ltd.", "country": "CN"}}
    r = await api.act(oid, "amend", "alice", body)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "COMPLIANCE_REVIEW"  # a new party is screened and reviewed
    assert r.json()["license"]["license_number"] == "D8800005"
    r = await api.act(oid, "approve", "bob", {})
    assert r.json()["state"] == "READY_TO_SHIP"


async def test_a_new_end_user_is_screened_and_determined_again(
    api: ApiHarness, listed_name: str
) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D"))
    await api.wait_state(oid, "READY_TO_SHIP")
    body = {"reason": "new end user", "end_user": {"name": listed_name, "country": "CN"}}
    r = await api.act(oid, "amend", "alice", body)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "SCREENING_REVIEW"
    assert r.json()["end_user"]["name"] == listed_name
    last = (await events(api, oid))[-1]
    assert last["data"]["rescreened"] == ["end_user"]


async def test_amend_refusals(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D"))
    await api.wait_state(oid, "READY_TO_SHIP")
    r = await api.act(oid, "amend", "alice", {"reason": "nothing"})
    assert r.status_code == 422
    assert "at least one field" in r.json()["detail"]
    r = await api.act(oid, "amend", "bob", {"reason": "x", "end_use": "y"})
    assert r.status_code == 403
    r = await api.act(oid, "amend", "alice", {"reason": "x", "lines": lines(0)})
    assert r.status_code == 422
    assert "quantity" in r.text
    r = await api.act(oid, "hold", "bob", {"reason": "check"})
    r = await api.act(oid, "amend", "alice", {"reason": "x", "end_use": "y"})
    assert r.status_code == 409
    await api.act(oid, "release", "bob", {"reason": "ok"})
    ship = {"carrier": "DHL", "tracking_number": "T", "itn": "X20261130000009"}
    assert (await api.act(oid, "ship", "alice", ship)).status_code == 200
    r = await api.act(oid, "amend", "alice", {"reason": "x", "end_use": "y"})
    assert r.status_code == 409
    assert "SHIPPED" in r.json()["detail"]
