"""Partial shipments: each with its own filing and license commit; SHIPPED once all has left."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


def itn(n: int) -> str:
    return f"X2026120100{n:04d}"


def ship(n: int, lines: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"carrier": "DHL", "tracking_number": f"JD{n}", "itn": itn(n)}
    if lines is not None:
        body["lines"] = [{"sku": s, "quantity": q} for s, q in lines]
    return body


async def licensed(api: ApiHarness, number: str, body: dict[str, Any] | None = None) -> str:
    oid = await api.book(body or booking(quantity=10))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(oid, "record-license", "carol", license_body(number, quantity=10))
    assert r.status_code == 200, r.text
    return oid


async def license_of(api: ApiHarness, number: str) -> dict[str, Any]:
    r = await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))
    return dict(r.json())


async def test_three_shipments_each_commit_their_part_then_the_order_is_shipped(
    api: ApiHarness,
) -> None:
    oid = await licensed(api, "D5500001")
    r = await api.act(oid, "ship", "alice", ship(1, [("H20", 3)]))
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["state"] == "READY_TO_SHIP"
    assert order["lines"][0]["shipped"] == 3
    assert [s["itn"] for s in order["shipments"]] == [itn(1)]
    lic = await license_of(api, "D5500001")
    assert (lic["shipped_quantity"], lic["allocated_quantity"]) == (3, 10)
    r = await api.act(oid, "ship", "alice", ship(2, [("H20", 4)]))
    assert r.json()["state"] == "READY_TO_SHIP"
    r = await api.act(oid, "ship", "alice", ship(3))  # the rest
    order = r.json()
    assert order["state"] == "SHIPPED"
    assert [s["lines"] for s in order["shipments"]] == [
        [{"sku": "H20", "quantity": n}] for n in (3, 4, 3)
    ]
    assert order["lines"][0]["shipped"] == 10
    lic = await license_of(api, "D5500001")
    commits = [e for e in lic["ledger"] if e["kind"] == "commit"]
    assert [(e["quantity"], e["itn"]) for e in commits] == [
        (3, itn(1)),
        (4, itn(2)),
        (3, itn(3)),
    ]
    assert [e["value"] for e in commits] == ["36000.00", "48000.00", "36000.00"]
    assert lic["shipped_quantity"] == 10
    filing = (
        await api.http.get(f"/api/v1/orders/{oid}/export-filing", headers=api.auth("vic"))
    ).json()
    assert [(s["itn"], [x["quantity"] for x in s["lines"]]) for s in filing["shipments"]] == [
        (itn(1), [3]),
        (itn(2), [4]),
        (itn(3), [3]),
    ]
    assert filing["shipments"][0]["lines"][0]["license"] == "D5500001"


async def test_deliveries_per_shipment(api: ApiHarness) -> None:
    oid = await licensed(api, "D5500002")
    r = await api.act(oid, "deliver", "alice")
    assert r.status_code == 409
    assert "no shipment" in r.json()["detail"]
    await api.act(oid, "ship", "alice", ship(11, [("H20", 5)]))
    r = await api.act(oid, "deliver", "alice", {"shipment": 0})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "READY_TO_SHIP"
    assert r.json()["shipments"][0]["delivered_at"]
    r = await api.act(oid, "deliver", "alice", {"shipment": 0})
    assert r.status_code == 409
    assert "no shipment is on its way" in r.json()["detail"]
    await api.act(oid, "ship", "alice", ship(12))
    r = await api.act(oid, "deliver", "alice", {"shipment": 0})
    assert r.status_code == 409
    assert "delivered already" in r.json()["detail"]
    r = await api.act(oid, "deliver", "alice", {"shipment": 3})
    assert r.status_code == 422
    assert "shipment" in r.json()["detail"]
    r = await api.act(oid, "deliver", "alice")
    assert r.json()["state"] == "DELIVERED"


async def test_ship_refusals_name_the_line(api: ApiHarness) -> None:
    body = booking(quantity=10)
    body["lines"].append({"sku": "RTX-PRO-6000D", "quantity": 2, "unit_price": "8000.00"})
    oid = await licensed(api, "D5500003", body)
    cases = [
        ([("H100-SXM", 1)], 422, "lines[0].sku"),
        ([("H20", 11)], 422, "10 left to ship"),
        ([("H20", 1), ("H20", 1)], 422, "given twice"),
        ([("H20", 0)], 422, "quantity"),
    ]
    for lines, status, words in cases:
        r = await api.act(oid, "ship", "alice", ship(21, lines))
        assert r.status_code == status, (lines, r.text)
        assert words in r.text, r.text
    r = await api.act(oid, "ship", "alice", ship(22, [("RTX-PRO-6000D", 2)]))
    assert r.status_code == 200, r.text
    r = await api.act(oid, "ship", "alice", ship(22, [("H20", 2)]))
    assert r.status_code == 422
    assert "itn" in r.json()["detail"]
    r = await api.act(oid, "ship", "bob", ship(23))
    assert r.status_code == 403
    r = await api.act(oid, "cancel", "alice", {"reason": "customer changed mind"})
    assert r.status_code == 409
    assert "amend" in r.json()["detail"]
    r = await api.act(
        oid,
        "amend",
        "alice",
        {
            "reason": "less",
            "lines": [
                {"sku": "H20", "quantity": 10, "unit_price": "12000.00"},
                {"sku": "RTX-PRO-6000D", "quantity": 1, "unit_price": "8000.00"},
            ],
        },
    )
    assert r.status_code == 409
    assert "2 RTX-PRO-6000D have shipped" in r.json()["detail"]


async def test_amending_down_to_what_has_shipped_closes_the_order(api: ApiHarness) -> None:
    oid = await licensed(api, "D5500004")
    await api.act(oid, "ship", "alice", ship(31, [("H20", 6)]))
    lines = [{"sku": "H20", "quantity": 6, "unit_price": "12000.00"}]
    r = await api.act(oid, "amend", "alice", {"reason": "customer cut the rest", "lines": lines})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "SHIPPED"
    lic = await license_of(api, "D5500004")
    assert (lic["allocated_quantity"], lic["shipped_quantity"]) == (6, 6)


async def test_an_amended_increase_draws_only_what_is_left(api: ApiHarness) -> None:
    oid = await licensed(api, "D5500005")
    await api.act(oid, "ship", "alice", ship(41, [("H20", 4)]))
    lines = [{"sku": "H20", "quantity": 8, "unit_price": "12000.00"}]
    r = await api.act(oid, "amend", "alice", {"reason": "fewer", "lines": lines})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "READY_TO_SHIP"
    assert r.json()["license"]["quantity"] == 4  # 8 ordered, 4 shipped: 4 drawn
    lic = await license_of(api, "D5500005")
    assert (lic["allocated_quantity"], lic["shipped_quantity"]) == (8, 4)
    r = await api.act(oid, "ship", "alice", ship(42))
    assert r.json()["state"] == "SHIPPED"
    lic = await license_of(api, "D5500005")
    assert (lic["allocated_quantity"], lic["shipped_quantity"]) == (8, 8)
