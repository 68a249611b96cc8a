"""SIGKILL the worker process at random points while 200 orders run; nothing is lost or doubled.

The worker is a real `exportflow worker` process; the API runs in-process. Kills come at
seeded random moments; each time a new worker starts a moment later. Temporal hands the dead
worker's workflow tasks to the new one and retries its activities after their timeouts, and
the store's idempotency keys make those retries write nothing twice.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time

import pytest
from sqlalchemy import Engine

from services.config import Settings
from tests.e2e.procs import Proc
from tests.faults import invariants
from tests.faults.conftest import start_worker
from tests.faults.support import Driver, plans, run_all
from tests.harness import make_api

pytestmark = [pytest.mark.faults, pytest.mark.timeout(400)]

ORDERS = 200
SEED = 20261128
KILLS = 3


class Killer:
    """Kills the current worker at random moments and starts a new one each time."""

    def __init__(self, settings: Settings, rng: random.Random) -> None:
        self.settings = settings
        self.rng = rng
        self.worker: Proc | None = None
        self.killed_at: list[float] = []

    async def run(self, kills: int) -> None:
        """Kill `kills` times, 1-4 s apart, restarting 0.2-1 s after each kill."""
        began = time.monotonic()
        for _ in range(kills):
            await asyncio.sleep(self.rng.uniform(1.0, 4.0))
            assert self.worker is not None
            self.worker.popen.send_signal(signal.SIGKILL)
            self.worker.popen.wait()
            self.killed_at.append(round(time.monotonic() - began, 1))
            await asyncio.sleep(self.rng.uniform(0.2, 1.0))
            self.worker = await asyncio.to_thread(start_worker, self.settings)

    def stop(self) -> None:
        """Stop the worker that is running now, if any."""
        if self.worker is not None:
            self.worker.stop()


async def test_orders_survive_a_worker_killed_at_random_points(
    fault_settings: Settings, fault_engine: Engine
) -> None:
    rng = random.Random(SEED)
    todo = plans(ORDERS, SEED)
    killer = Killer(fault_settings, rng)
    killer.worker = start_worker(fault_settings)
    try:
        async with make_api(fault_settings) as api:
            driver = Driver(api.http, api.tokens)
            killing = asyncio.create_task(killer.run(KILLS))
            done = await run_all(driver, todo, concurrency=40)
            await killing
            for (oid, _), plan in zip(done, todo, strict=True):
                assert await driver.state(oid) == plan.end, (oid, plan.name)
    finally:
        killer.stop()
    assert len(killer.killed_at) == KILLS
    assert invariants.problems(fault_engine) == []
    reserved = {oid for (oid, name) in done if name in ("h20", "cancel")}
    for oid in reserved:
        assert invariants.ledger_kinds(fault_engine, oid).get("reserve") == 1, oid
