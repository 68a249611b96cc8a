"""Waiting for an order's next change (`GET /orders/{id}/watch`) instead of polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from services.ops.state import AppState
from services.ops.watch import OrderWatcher
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


def _watcher(api: ApiHarness) -> OrderWatcher:
    transport = api.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    state: AppState = transport.app.state.exportflow  # type: ignore[attr-defined]
    return state.watcher


async def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# The time bounds below tell "woken by the change" or "ended by its own timeout" apart from
# "held until a much longer timeout ran out", with room for a busy machine.


async def test_watch_answers_at_once_when_the_order_already_moved_on(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    began = time.monotonic()
    seen = await _watch(api, oid, after_seq=0, timeout=30)
    assert time.monotonic() - began < 15  # not held until its timeout
    assert seen["seq"] == order["seq"]
    assert seen["state"] == "COMPLIANCE_REVIEW"


async def test_watch_wakes_up_when_an_action_changes_the_order(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    began = time.monotonic()
    waiting = asyncio.create_task(_watch(api, oid, after_seq=int(order["seq"]), timeout=30))
    await _until(lambda: _watcher(api).waiting == 1)
    await asyncio.sleep(0.2)
    assert not waiting.done()  # nothing changed yet: it holds the request
    r = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert r.status_code == 200, r.text
    seen = await asyncio.wait_for(waiting, 30)
    assert time.monotonic() - began < 25  # woken by the change, not ended by its timeout
    assert seen["state"] == "AWAITING_LICENSE"
    assert seen["seq"] == order["seq"] + 1


async def test_watch_returns_the_unchanged_order_when_its_timeout_ends(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H20"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    began = time.monotonic()
    seen = await _watch(api, oid, after_seq=int(order["seq"]), timeout=0.5)
    assert 0.5 <= time.monotonic() - began < 15  # its own timeout, not the 30 s at most
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
