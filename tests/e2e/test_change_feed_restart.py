"""A consumer follows the change feed with a stored cursor across an API restart: every change
of its orders once, none twice, including those committed while the API was down."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import httpx
import pytest

from services.config import Settings
from tests.e2e.procs import Proc, base_env, free_port, wait_http
from tests.harness import booking, create_tokens
from tests.webhooks.test_delivery import events_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
SHIP = {"carrier": "DHL", "tracking_number": "CF1", "itn": "X20261201000001"}


def start_api(settings: Settings) -> tuple[Proc, str]:
    """An `exportflow api` process on a port of its own, once it answers."""
    env = base_env(
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        task_queue=settings.task_queue,
    )
    port = free_port()
    proc = Proc(["api", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    proc.wait_for("Uvicorn running")
    wait_http(base + "/readyz")
    return proc, base


class Consumer:
    """Long-polls the feed and keeps its cursor as a consumer would keep it on disk."""

    def __init__(self, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}"}
        self.base = ""
        self.cursor: str | None = None
        self.seen: list[tuple[str, int]] = []
        self.failed_polls = 0

    async def tail(self) -> None:
        """Start from the end of the feed (the shared database holds other tests' changes)."""
        async with httpx.AsyncClient(base_url=self.base, headers=self.headers) as http:
            while True:
                params = {"limit": 1000} | ({"after": self.cursor} if self.cursor else {})
                page = (await http.get("/api/v1/changes", params=params)).json()
                self.cursor = page["next_cursor"]
                if not page["items"]:
                    return

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until stopped; a poll that fails (API away) is tried again."""
        while not stop.is_set():
            try:
                async with httpx.AsyncClient(base_url=self.base, headers=self.headers) as http:
                    params: dict[str, Any] = {"after": self.cursor, "limit": 25, "wait": 2}
                    r = await http.get("/api/v1/changes", params=params, timeout=10)
                r.raise_for_status()
            except httpx.HTTPError:
                self.failed_polls += 1
                await asyncio.sleep(0.2)
                continue
            page = r.json()
            self.seen += [(c["order_id"], c["seq"]) for c in page["items"]]
            self.cursor = page["next_cursor"]  # stored only after the page is processed


async def drive(base: str, tokens: dict[str, str], oids: list[str], n: int) -> list[str]:
    """Ship and deliver `oids` (ready to ship) and book `n` more; returns the new ids."""
    auth = {"Authorization": f"Bearer {tokens['alice']}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as http:
        for oid in oids:
            for action, body in (("ship", SHIP), ("deliver", None)):
                r = await http.post(f"/api/v1/orders/{oid}/actions/{action}", json=body)
                assert r.status_code == 200, r.text
        new = []
        for _ in range(n):
            r = await http.post("/api/v1/orders", json=booking(sku="RTX-PRO-6000D"))
            assert r.status_code == 201, r.text
            new.append(str(r.json()["id"]))
        for oid in new:
            while (await http.get(f"/api/v1/orders/{oid}")).json()["state"] != "READY_TO_SHIP":
                await asyncio.sleep(0.1)
        return new


async def test_a_stored_cursor_sees_every_change_once_across_an_api_restart(
    settings: Settings, worker: None
) -> None:
    tokens = create_tokens(settings.database_url)
    consumer = Consumer(tokens["ivy"])
    stop = asyncio.Event()
    api, consumer.base = start_api(settings)
    try:
        await consumer.tail()
        polling = asyncio.create_task(consumer.run(stop))
        first = await drive(consumer.base, tokens, [], 10)
        # Booked just before the restart: their screening is committed while the API is down.
        late: list[str] = []
        auth = {"Authorization": f"Bearer {tokens['alice']}"}
        async with httpx.AsyncClient(base_url=consumer.base, headers=auth) as http:
            for _ in range(5):
                r = await http.post("/api/v1/orders", json=booking(sku="RTX-PRO-6000D"))
                late.append(str(r.json()["id"]))
        # In threads: the consumer keeps polling on the loop meanwhile, and finds the API away.
        assert await asyncio.to_thread(api.stop) == 0
        api, consumer.base = await asyncio.to_thread(start_api, settings)
        second = await drive(consumer.base, tokens, first, 10)
        await drive(consumer.base, tokens, second, 0)
        ours = first + late + second
        expected = events_of(settings, ours)
        deadline = asyncio.get_running_loop().time() + 60
        while not set(expected) <= set(consumer.seen):
            assert asyncio.get_running_loop().time() < deadline, "the consumer fell behind"
            await asyncio.sleep(0.2)
        stop.set()
        await polling
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            api.stop()
    mine = Counter(c for c in consumer.seen if c[0] in set(ours))
    assert set(mine) == expected
    assert max(mine.values()) == 1, [c for c, n in mine.items() if n > 1][:5]
    assert consumer.failed_polls > 0, "the restart was not noticed by the consumer"
