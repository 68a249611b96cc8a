"""SIGKILL the worker while it is sending webhooks: every change still arrives, in order.

The worker is a real `exportflow worker` process, its dispatcher holding the subscription's
lease; the receiver takes 0.3 s per request, and each kill waits until a request is in flight.
The next worker takes the lease once it lapses (3 s here) and resends what the dead one had in
flight, under the same webhook-id.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time

import pytest

from services.config import Settings
from tests.e2e.procs import Proc
from tests.faults.conftest import worker_env
from tests.faults.support import Driver, plans, run_all
from tests.harness import make_api
from tests.webhooks.conftest import FAST, subscribe, wait_for
from tests.webhooks.receiver import Receiver, check_deliveries
from tests.webhooks.test_delivery import events_of

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

ORDERS = 60
KILLS = 3
SEED = 20261201


def start_worker(settings: Settings) -> Proc:
    """A worker process dispatching webhooks with the tests' short leases and backoffs."""
    env = worker_env(settings) | {f"EXPORTFLOW_{k.upper()}": str(v) for k, v in FAST.items()}
    proc = Proc(["worker"], env)
    try:
        proc.wait_for("worker polling", timeout=60)
    except BaseException:
        proc.stop()
        raise
    return proc


async def kill_mid_delivery(settings: Settings, receiver: Receiver, worker: list[Proc]) -> int:
    """Kill the worker KILLS times while the receiver is answering; returns in-flight counts."""
    rng = random.Random(SEED)
    caught = 0
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        deadline = time.monotonic() + 60
        while receiver.active == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        caught += receiver.active > 0
        worker[0].popen.send_signal(signal.SIGKILL)
        worker[0].popen.wait()
        await asyncio.sleep(rng.uniform(0.2, 1.0))
        worker[0] = await asyncio.to_thread(start_worker, settings)
    return caught


async def test_webhooks_survive_a_worker_killed_mid_delivery(fault_settings: Settings) -> None:
    settings = fault_settings.model_copy(update=FAST)
    receiver = Receiver(delay=0.3)
    receiver.start()
    worker = [start_worker(settings)]
    try:
        async with make_api(settings) as api:
            await subscribe(api, receiver)
            driver = Driver(api.http, api.tokens)
            killing = asyncio.create_task(kill_mid_delivery(settings, receiver, worker))
            done = await run_all(driver, plans(ORDERS, SEED), concurrency=20)
            caught = await killing
            expected = events_of(settings, [oid for oid, _ in done])
            await wait_for(
                lambda: {r.change for r in receiver.accepted()} >= expected,
                timeout=240,
                what="every change at the receiver",
            )
    finally:
        worker[0].stop()
        receiver.stop()
    assert caught == KILLS, "a kill found no request in flight"
    counts = check_deliveries(receiver, expected)
    print(f"webhooks after {KILLS} kills: {counts}")
