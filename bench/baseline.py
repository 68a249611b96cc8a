"""The baseline: a bare Temporal workflow of an order's shape, with no exportflow code.

Same shape as the H20 happy path of `OrderWorkflow`: four activities after the start
(transition, screen, determine, transition), then four updates with validators running one,
two, four and one activity (approve; record license = reserve + transition; ship = re-screen +
obligation check + ledger commit + transition; deliver).
Activities are synchronous no-ops on a thread pool, like exportflow's.

`python -m bench.baseline worker ADDRESS TASK_QUEUE` runs its worker as a separate process.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TIMEOUT = timedelta(seconds=15)  # start-to-close, as exportflow's activities


@activity.defn
def step(name: str) -> str:
    """A no-op activity: the cost of an activity round trip and nothing else."""
    return name


@workflow.defn
class BareOrder:
    """Four activities, then four updates; ends when delivered."""

    def __init__(self) -> None:
        self.state = "BOOKED"

    @workflow.run
    async def run(self, order_id: str) -> str:
        """Screen and determine, then wait for the updates."""
        for name in ("transition", "screen", "determine", "transition"):
            await workflow.execute_activity(step, name, start_to_close_timeout=TIMEOUT)
        self.state = "COMPLIANCE_REVIEW"
        await workflow.wait_condition(lambda: self.state == "DELIVERED")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return order_id

    async def _move(self, to: str, *activities: str) -> str:
        for name in activities:
            await workflow.execute_activity(step, name, start_to_close_timeout=TIMEOUT)
        self.state = to
        return to

    def _expect(self, state: str) -> None:
        if self.state != state:
            raise ValueError(f"not allowed in {self.state}")

    @workflow.update
    async def approve(self, note: str) -> str:
        """One activity, like exportflow's approve."""
        await workflow.wait_condition(lambda: self.state == "COMPLIANCE_REVIEW")
        return await self._move("AWAITING_LICENSE", "transition")

    @approve.validator
    def _v_approve(self, note: str) -> None:
        if self.state not in ("BOOKED", "COMPLIANCE_REVIEW"):
            raise ValueError(f"not allowed in {self.state}")

    @workflow.update
    async def record_license(self, number: str) -> str:
        """Two activities: allocate and transition."""
        return await self._move("READY_TO_SHIP", "allocate", "transition")

    @record_license.validator
    def _v_record_license(self, number: str) -> None:
        self._expect("AWAITING_LICENSE")

    @workflow.update
    async def ship(self, itn: str) -> str:
        """Four activities: re-screen, obligation check, ledger commit, transition."""
        return await self._move("SHIPPED", "screen", "ship_check", "commit", "transition")

    @ship.validator
    def _v_ship(self, itn: str) -> None:
        self._expect("READY_TO_SHIP")

    @workflow.update
    async def deliver(self, note: str) -> str:
        """One activity."""
        return await self._move("DELIVERED", "transition")

    @deliver.validator
    def _v_deliver(self, note: str) -> None:
        self._expect("SHIPPED")


async def start(client: Client, task_queue: str) -> str:
    """Start one bare order; its workflow id."""
    wid = f"bare-{uuid.uuid4().hex}"
    await client.start_workflow(BareOrder.run, wid, id=wid, task_queue=task_queue)
    return wid


async def lifecycle(client: Client, task_queue: str) -> float:
    """Start one bare order and take it to delivery; seconds it took."""
    began = time.perf_counter()
    wid = await start(client, task_queue)
    handle = client.get_workflow_handle_for(BareOrder.run, wid)
    await handle.execute_update(BareOrder.approve, "ok")
    await handle.execute_update(BareOrder.record_license, "D000001")
    await handle.execute_update(BareOrder.ship, "X20261128000001")
    await handle.execute_update(BareOrder.deliver, "")
    return time.perf_counter() - began


async def approve_round_trip(client: Client, wid: str) -> float:
    """One approve update's round trip, in seconds."""
    handle = client.get_workflow_handle_for(BareOrder.run, wid)
    began = time.perf_counter()
    await handle.execute_update(BareOrder.approve, "ok")
    return time.perf_counter() - began


async def run_worker(address: str, task_queue: str) -> None:
    """The baseline's worker, configured like exportflow's; stops on SIGTERM."""
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=50) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[BareOrder],
            activities=[step],
            activity_executor=executor,
            max_concurrent_activities=50,
            max_concurrent_workflow_tasks=50,
            max_cached_workflows=20_000,
            graceful_shutdown_timeout=timedelta(seconds=30),
        )
        async with worker:
            print("baseline worker polling", flush=True)
            await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "worker":
        raise SystemExit("usage: python -m bench.baseline worker ADDRESS TASK_QUEUE")
    asyncio.run(run_worker(sys.argv[2], sys.argv[3]))
