"""Activities of the rule-set workflow: activation, expiry, and the fan-out in batches.

The database work runs in threads (SQLModel is synchronous); signalling the orders runs on
the worker's event loop, a bounded number at a time. Every activity is idempotent: a retried
batch signals the same orders again, and an order finds nothing new in a repeated signal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from temporalio import activity

from schemas.ruleset_io import (
    Activated,
    ActivateRequest,
    FanOutBatch,
    FanOutDone,
    FanOutResult,
)
from schemas.workflow_io import RedetermineRequest

log = logging.getLogger(__name__)

SIGNALS_AT_ONCE = 32


class Changed(Protocol):
    """An open order whose outcome a batch found changed."""

    order_id: str
    request: RedetermineRequest


class PolicyStore(Protocol):
    """What the activities need from the system of record."""

    def activate(self, req: ActivateRequest) -> Activated: ...

    def expire(self, req: ActivateRequest) -> Activated: ...

    def dated_change(self, req: ActivateRequest) -> Activated: ...

    def batch(self, req: FanOutBatch) -> tuple[FanOutResult, list[Changed]]: ...

    def progress(self, req: FanOutBatch, result: FanOutResult) -> None: ...

    def finish(self, done: FanOutDone) -> None: ...


Signal = Callable[[str, RedetermineRequest], Awaitable[bool]]


class RuleSetActivities:
    """The rule-set workflow's activities, bound to the database and a Temporal client."""

    def __init__(self, store: PolicyStore, signal: Signal) -> None:
        self._store = store
        self._signal = signal

    @activity.defn(name="ruleset_activate")
    async def activate(self, req: ActivateRequest) -> Activated:
        """Put the approved rule set in force (00:00 UTC of its effective date)."""
        return await asyncio.to_thread(self._store.activate, req)

    @activity.defn(name="ruleset_expire")
    async def expire(self, req: ActivateRequest) -> Activated:
        """End the rule set; the one in force before it decides again."""
        return await asyncio.to_thread(self._store.expire, req)

    @activity.defn(name="ruleset_dated_change")
    async def dated_change(self, req: ActivateRequest) -> Activated:
        """One of the rule set's own dated changes starts today; still in force?"""
        return await asyncio.to_thread(self._store.dated_change, req)

    @activity.defn(name="ruleset_fan_out_batch")
    async def fan_out_batch(self, req: FanOutBatch) -> FanOutResult:
        """Determine the next batch of open orders; signal those whose outcome changes."""
        result, changed = await asyncio.to_thread(self._store.batch, req)
        gate = asyncio.Semaphore(SIGNALS_AT_ONCE)

        async def one(item: Changed) -> bool:
            async with gate:
                return await self._signal(item.order_id, item.request)

        delivered = await asyncio.gather(*(one(c) for c in changed))
        if not all(delivered):
            log.info("%d changed order(s) had ended already", delivered.count(False))
        result = result.model_copy(update={"changed": sum(delivered)})
        await asyncio.to_thread(self._store.progress, req, result)
        return result

    @activity.defn(name="ruleset_fan_out_done")
    async def fan_out_done(self, done: FanOutDone) -> None:
        """Record the finished fan-out as an event of the rule set."""
        await asyncio.to_thread(self._store.finish, done)
