"""Webhooks to a real receiver on 127.0.0.1: every change once per webhook-id, in order, signed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select

from services.config import Settings
from services.db.engine import make_engine
from services.db.models import OrderEventRow
from tests.faults.support import Driver, plans, run_all
from tests.harness import ApiHarness, booking
from tests.webhooks.conftest import settled, subscribe, wait_for
from tests.webhooks.receiver import Receiver, check_deliveries

pytestmark = pytest.mark.timeout(600)
OUTAGE_SECONDS = 30.0


def events_of(settings: Settings, order_ids: list[str]) -> set[tuple[str, int]]:
    """(order, seq) of every audit event of these orders."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            stmt = select(OrderEventRow.order_id, OrderEventRow.seq).where(  # type: ignore[call-overload]
                OrderEventRow.order_id.in_(order_ids)  # type: ignore[attr-defined]
            )
            return {(str(o), int(s)) for o, s in conn.execute(stmt)}
    finally:
        engine.dispose()


async def deliveries(api: ApiHarness, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    """The delivery log."""
    r = await api.http.get(
        f"/api/v1/webhooks/{webhook_id}/deliveries", params=params, headers=api.auth("ivy")
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_every_change_of_200_orders_arrives_once_per_webhook_id_in_order_and_signed(
    wh_api: ApiHarness, wh_settings: Settings, dispatching: None, receiver: Receiver
) -> None:
    receiver.flaky = 0.05  # one answer in twenty is a 500: those are retried, in order
    webhook_id = await subscribe(wh_api, receiver)
    driver = Driver(wh_api.http, wh_api.tokens)
    done = await run_all(driver, plans(200, seed=14), concurrency=40)
    order_ids = [oid for oid, _ in done]
    expected = events_of(wh_settings, order_ids)
    assert len(expected) > 600
    mine = set(order_ids)

    def arrived() -> bool:
        got = {r.change for r in receiver.accepted() if r.change[0] in mine}
        return got >= expected

    await wait_for(arrived, what="every change at the receiver")
    counts = check_deliveries(receiver, expected)
    assert counts["requests"] > counts["ids"], "no 500 was retried"
    assert counts["repeats"] == 0, "an acknowledged delivery was sent again"
    await settled(wh_api, webhook_id)
    log = await deliveries(wh_api, webhook_id, limit=500)
    assert {d["status"] for d in log} == {"delivered"}
    retried = [d for d in log if len(d["attempts"]) > 1]
    assert retried, "the log shows no retried delivery"
    first = retried[0]["attempts"][0]
    assert first["status_code"] == 500
    assert first["outcome"] == "retry"
    assert retried[0]["attempts"][-1]["status_code"] == 200
    assert all(a["latency_ms"] >= 0 for d in log for a in d["attempts"])


async def test_a_receiver_away_for_30_s_loses_nothing(
    wh_api: ApiHarness, wh_settings: Settings, dispatching: None, receiver: Receiver
) -> None:
    webhook_id = await subscribe(wh_api, receiver)
    receiver.stop()
    away_since = time.monotonic()
    oids = [await wh_api.book(booking(sku="RTX-PRO-6000D")) for _ in range(20)]
    for oid in oids:
        await wh_api.wait_state(oid, "READY_TO_SHIP")
    expected = events_of(wh_settings, oids)
    # Away for a real 30 s while the dispatcher keeps trying (backoff 0.2 s doubling to 2 s).
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - away_since)))
    log = await deliveries(wh_api, webhook_id, limit=500)
    assert {d["status"] for d in log} == {"pending"}
    assert len(log) == len(expected)
    tries = [a for d in log for a in d["attempts"]]
    assert len(tries) > len(log), "the dispatcher did not keep trying"
    assert all(a["status_code"] is None for a in tries)
    assert all(a["error"] for a in tries)
    r = await wh_api.http.get(f"/api/v1/webhooks/{webhook_id}", headers=wh_api.auth("ivy"))
    health = r.json()["health"]
    assert health["status"] == "active"
    assert health["pending"] == len(expected)
    assert health["last_error"]
    receiver.start()
    await wait_for(lambda: {r.change for r in receiver.accepted()} >= expected, what="the backlog")
    check_deliveries(receiver, expected)
