"""Waiting for an order's next change (`GET /orders/{id}/watch`) instead of polling."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")


async def _watch(
    api: ApiHarness, oid: str, after_seq: int, timeout: float = 10
) -> dict[str, object]:
    r = await api.http.get(
        f"/api/v1/orders/{oid}/watch",
        params={"after_seq": after_seq, "timeout": timeout},
        headers=api.auth("vic"),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_watch_answers_at_once_when_the_order_already_moved_on(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    began = time.monotonic()
    seen = await _watch(api, oid, after_seq=0)
    assert time.monotonic() - began < 1
    assert seen["seq"] == order["seq"]
    assert seen["state"] == "COMPLIANCE_REVIEW"


async def test_watch_wakes_up_when_an_action_changes_the_order(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    waiting = asyncio.create_task(_watch(api, oid, after_seq=int(order["seq"]), timeout=20))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # nothing changed yet: it holds the request
    began = time.monotonic()
    r = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert r.status_code == 200, r.text
    seen = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - began < 2
    assert seen["state"] == "AWAITING_LICENSE"
    assert seen["seq"] == order["seq"] + 1


async def test_watch_returns_the_unchanged_order_when_its_timeout_ends(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    began = time.monotonic()
    seen = await _watch(api, oid, after_seq=int(order["seq"]), timeout=0.5)
    assert 0.4 < time.monotonic() - began < 3
    assert seen["seq"] == order["seq"]


async def test_watch_refuses_bad_input_naming_the_field(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    url = f"/api/v1/orders/{oid}/watch"
    r = await api.http.get(url, params={"after_seq": 0, "timeout": 31}, headers=api.auth("vic"))
    assert r.status_code == 422
    assert "timeout" in r.text
    r = await api.http.get(url, headers=api.auth("vic"))
    assert r.status_code == 422
    assert "after_seq" in r.text
    r = await api.http.get(url, params={"after_seq": 0})
    assert r.status_code == 401
    missing = "/api/v1/orders/ORD-NOPE/watch"
    r = await api.http.get(missing, params={"after_seq": 0}, headers=api.auth("vic"))
    assert r.status_code == 404
    assert "ORD-NOPE" in r.json()["detail"]
