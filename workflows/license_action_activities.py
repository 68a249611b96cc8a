"""Activities of a license action's fan-out: count, a batch of orders, finish.

The database work runs in threads (SQLModel is synchronous); the updates to the orders run on
the worker's event loop, a bounded number at once. A batch retried after a crash sends the same
updates again under the same update ids, and Temporal answers those with the first outcome, so
no order is held or released twice; result lines are written once per order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from temporalio import activity

from schemas.license_actions import (
    BatchRequest,
    BatchResult,
    LicenseActionResult,
    LicenseEvent,
    LicenseEventOutcome,
    Outcome,
)

UPDATES_AT_ONCE = 32


class LicenseActionStore(Protocol):
    """What the fan-out needs from the system of record."""

    def count(self, action_id: int) -> int: ...

    def next_orders(self, action_id: int, after: str, limit: int) -> list[str]: ...

    def record(self, action_id: int, results: list[LicenseActionResult]) -> int: ...

    def finish(self, action_id: int) -> None: ...


# Sends the event to the order's workflow; None when the workflow has ended.
Send = Callable[[str, LicenseEvent], Awaitable[LicenseEventOutcome | None]]


class LicenseActionActivities:
    """The license action workflow's activities, bound to the database and a Temporal client."""

    def __init__(self, store: LicenseActionStore, send: Send) -> None:
        self._store = store
        self._send = send

    @activity.defn(name="license_action_count")
    async def count(self, action_id: int) -> int:
        """How many orders the action reaches (the progress's total)."""
        return await asyncio.to_thread(self._store.count, action_id)

    @activity.defn(name="license_action_batch")
    async def batch(self, req: BatchRequest) -> BatchResult:
        """Tell the next batch of orders; one result line each."""
        event = req.event
        ids = await asyncio.to_thread(
            self._store.next_orders, event.action_id, req.after, req.limit
        )
        gate = asyncio.Semaphore(UPDATES_AT_ONCE)

        async def one(order_id: str) -> LicenseActionResult:
            async with gate:
                answer = await self._send(order_id, event)
                activity.heartbeat(order_id)
            if answer is None:
                answer = LicenseEventOutcome(
                    outcome=Outcome.ENDED, state="", detail="the order's workflow has ended"
                )
            return LicenseActionResult(
                order_id=order_id,
                outcome=answer.outcome,
                state=answer.state,
                detail=answer.detail,
                at=datetime.now(UTC),
            )

        results = list(await asyncio.gather(*(one(oid) for oid in ids)))
        await asyncio.to_thread(self._store.record, event.action_id, results)
        return BatchResult(
            seen=len(ids), after=ids[-1] if ids else req.after, finished=len(ids) < req.limit
        )

    @activity.defn(name="license_action_finish")
    async def finish(self, action_id: int) -> None:
        """The fan-out reached every order."""
        await asyncio.to_thread(self._store.finish, action_id)
