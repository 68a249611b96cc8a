"""Licenses suspended, reinstated and revoked: the orders drawing on them follow, durably."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")

SHIP = {"carrier": "DHL", "tracking_number": "T1", "itn": "X20261201990001"}


async def licensed(api: ApiHarness, number: str, quantity: int = 10) -> str:
    oid = await api.book(booking(quantity=quantity))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(oid, "record-license", "carol", license_body(number, quantity=100))
    assert r.status_code == 200, r.text
    return oid


async def on_license(api: ApiHarness, number: str, n: int) -> list[str]:
    """n orders drawing on one license (the first records it, the rest draw by number)."""
    first = await licensed(api, number)
    rest = []
    for _ in range(n - 1):
        oid = await api.book(booking(quantity=10))
        await api.wait_state(oid, "COMPLIANCE_REVIEW")
        await api.act(oid, "approve", "bob", {})
        body = {"decision": "approved", "license_number": number}
        assert (await api.act(oid, "record-license", "carol", body)).status_code == 200
        rest.append(oid)
    return [first, *rest]


async def take(api: ApiHarness, number: str, kind: str, reason: str = "BIS letter") -> Any:
    return await api.http.post(
        f"/api/v1/licenses/{number}/{kind}", json={"reason": reason}, headers=api.auth("bob")
    )


async def finished(api: ApiHarness, number: str, timeout: float = 60) -> dict[str, Any]:
    """The license once its newest action has reached every order."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))
        lic = dict(r.json())
        if lic["actions"] and lic["actions"][0]["finished_at"]:
            return lic
        assert asyncio.get_running_loop().time() < deadline, lic["actions"]
        await asyncio.sleep(0.1)


async def test_suspend_holds_every_order_and_reinstate_releases_them(api: ApiHarness) -> None:
    orders = await on_license(api, "D4400001", 3)
    r = await take(api, "D4400001", "suspend", "BIS suspension order 12/1")
    assert r.status_code == 202, r.text
    assert r.json()["kind"] == "suspend"
    lic = await finished(api, "D4400001")
    assert (lic["status"], lic["status_reason"]) == ("suspended", "BIS suspension order 12/1")
    action = lic["actions"][0]
    assert (action["total"], action["done"]) == (3, 3)
    assert sorted(x["order_id"] for x in action["results"]) == sorted(orders)
    assert {x["outcome"] for x in action["results"]} == {"held"}
    for oid in orders:
        order = await api.get(oid)
        assert (order["state"], order["held_from"], order["license_hold"]) == (
            "ON_HOLD",
            "READY_TO_SHIP",
            "D4400001",
        )
    r = await api.act(orders[0], "release", "carol", {"reason": "try"})
    assert r.status_code == 409
    assert "D4400001 is suspended" in r.json()["detail"]
    r = await take(api, "D4400001", "reinstate", "BIS lifted it")
    assert r.status_code == 202, r.text
    lic = await finished(api, "D4400001")
    assert lic["status"] == "active"
    assert {x["outcome"] for x in lic["actions"][0]["results"]} == {"released"}
    for oid in orders:
        assert (await api.get(oid))["state"] == "READY_TO_SHIP"
    r = await api.http.get(f"/api/v1/orders/{orders[0]}/events", headers=api.auth("vic"))
    actions = [e["action"] for e in r.json()["items"]]
    assert actions[-2:] == ["license-suspended", "license-reinstated"]


async def test_a_suspended_license_takes_no_draw_and_ships_nothing(api: ApiHarness) -> None:
    oid = await api.book(booking(quantity=10))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {})
    await licensed(api, "D4400002")
    await take(api, "D4400002", "suspend")
    body = {"decision": "approved", "license_number": "D4400002"}
    r = await api.act(oid, "record-license", "carol", body)
    assert r.status_code == 409
    assert "license D4400002 is suspended" in r.json()["detail"]


async def test_reinstate_leaves_orders_held_for_other_reasons(api: ApiHarness) -> None:
    held, free = await on_license(api, "D4400003", 2)
    assert (await api.act(held, "hold", "carol", {"reason": "end-use check"})).status_code == 200
    await take(api, "D4400003", "suspend")
    lic = await finished(api, "D4400003")
    outcomes = {x["order_id"]: x["outcome"] for x in lic["actions"][0]["results"]}
    assert outcomes == {held: "already_on_hold", free: "held"}
    await take(api, "D4400003", "reinstate")
    lic = await finished(api, "D4400003")
    assert [x["order_id"] for x in lic["actions"][0]["results"]] == [free]
    assert (await api.get(held))["state"] == "ON_HOLD"
    assert (await api.get(free))["state"] == "READY_TO_SHIP"


async def test_revoke_releases_the_draws_and_orders_wait_for_a_license(api: ApiHarness) -> None:
    full, part = await on_license(api, "D4400004", 2)
    r = await api.act(part, "ship", "alice", SHIP | {"lines": [{"sku": "H20", "quantity": 4}]})
    assert r.status_code == 200, r.text
    await take(api, "D4400004", "suspend")
    await finished(api, "D4400004")
    r = await take(api, "D4400004", "revoke", "license revoked by BIS")
    assert r.status_code == 202, r.text
    lic = await finished(api, "D4400004")
    assert lic["status"] == "revoked"
    assert {x["outcome"] for x in lic["actions"][0]["results"]} == {"returned_to_awaiting_license"}
    assert (lic["allocated_quantity"], lic["shipped_quantity"]) == (4, 4)  # shipped stays
    for oid in (full, part):
        order = await api.get(oid)
        assert (order["state"], order["license"], order["license_hold"]) == (
            "AWAITING_LICENSE",
            None,
            None,
        )
    # The partly shipped order draws only what is left on its new license.
    body = license_body("D4400005", quantity=6)
    r = await api.act(part, "record-license", "carol", body)
    assert r.status_code == 200, r.text
    assert (r.json()["license"]["quantity"], r.json()["split_into"]) == (6, [])


async def test_license_action_refusals(api: ApiHarness) -> None:
    await licensed(api, "D4400006")
    r = await take(api, "D4400099", "suspend")
    assert r.status_code == 404
    r = await api.http.post(
        "/api/v1/licenses/D4400006/suspend", json={"reason": "x"}, headers=api.auth("alice")
    )
    assert r.status_code == 403
    r = await api.http.post("/api/v1/licenses/D4400006/suspend", json={}, headers=api.auth("bob"))
    assert r.status_code == 422
    assert "reason" in r.text
    r = await take(api, "D4400006", "reinstate")
    assert r.status_code == 409
    assert "active, not suspended" in r.json()["detail"]
    assert (await take(api, "D4400006", "suspend")).status_code == 202
    r = await take(api, "D4400006", "suspend")
    assert r.status_code == 409
    assert "suspended already" in r.json()["detail"]
    await finished(api, "D4400006")
    assert (await take(api, "D4400006", "revoke")).status_code == 202
    await finished(api, "D4400006")
    for kind in ("suspend", "reinstate", "revoke"):
        r = await take(api, "D4400006", kind)
        assert r.status_code == 409
        assert "revoked" in r.json()["detail"]
