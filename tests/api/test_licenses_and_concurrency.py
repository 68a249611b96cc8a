"""Licenses shared by orders, never over-allocated; concurrent officers get one success."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


async def _awaiting_license(api: ApiHarness, n: int, quantity: int) -> list[str]:
    ids = [await api.book(booking(quantity=quantity, price="100.00")) for _ in range(n)]
    for oid in ids:
        await api.wait_state(oid, "COMPLIANCE_REVIEW")
        assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    return ids


async def test_second_order_draws_on_what_is_left(api: ApiHarness) -> None:
    first, second, third = await _awaiting_license(api, 3, quantity=40)
    terms = license_body("D5000001", quantity=100, value="100000.00")
    assert (await api.act(first, "record-license", "bob", terms)).status_code == 200
    assert (await api.act(second, "record-license", "bob", terms)).status_code == 200
    r = await api.act(third, "record-license", "bob", terms)
    assert r.status_code == 409
    assert "20 units" in r.json()["detail"]
    assert (await api.get(third))["state"] == "AWAITING_LICENSE"
    lic = (await api.http.get("/api/v1/licenses/D5000001", headers=api.auth("vic"))).json()
    assert (lic["approved_quantity"], lic["allocated_quantity"], lic["remaining_quantity"]) == (
        100,
        80,
        20,
    )
    assert {o["order_id"] for o in lic["orders"]} == {first, second}


async def test_recording_a_known_license_with_other_terms_is_refused(api: ApiHarness) -> None:
    a, b = await _awaiting_license(api, 2, quantity=1)
    assert (
        await api.act(a, "record-license", "bob", license_body("D5100001", 10))
    ).status_code == 200
    r = await api.act(b, "record-license", "bob", license_body("D5100001", 20))
    assert r.status_code == 409
    assert "approved quantity 10" in r.json()["detail"]


async def test_concurrent_allocations_never_exceed_the_license(api: ApiHarness) -> None:
    ids = await _awaiting_license(api, 6, quantity=10)
    terms = license_body("D6000001", quantity=30, value="100000.00")
    results = await asyncio.gather(*(api.act(o, "record-license", "bob", terms) for o in ids))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 200, 409, 409, 409]
    lic = (await api.http.get("/api/v1/licenses/D6000001", headers=api.auth("vic"))).json()
    assert lic["allocated_quantity"] == 30
    assert len([o for o in lic["orders"] if not o["released"]]) == 3


async def test_two_officers_approving_at_once_get_one_success_and_one_409(
    api: ApiHarness,
) -> None:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    results = await asyncio.gather(
        api.act(oid, "approve", "bob", {}), api.act(oid, "approve", "carol", {})
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()[
        "items"
    ]
    assert [e["action"] for e in events].count("approve") == 1


async def test_unknown_license_is_404(api: ApiHarness) -> None:
    r = await api.http.get("/api/v1/licenses/D0000000", headers=api.auth("vic"))
    assert r.status_code == 404
