"""Waiting for an order to change, without every client polling the API.

`GET /orders/{id}/watch?after_seq=N` holds the request until the order's `seq` passes N or the
timeout ends. All waiting requests of a process share one poller: one indexed read of the
watched orders' `seq` per tick, whatever the number of waiters, on the asyncio driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.models import OrderRow

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05  # how soon a change written by the worker is seen
MAX_WAITERS = 2_000  # past this, a watch answers at once (the client just asks again)
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_SEQS = select(_ORDERS.c.id, _ORDERS.c.seq).where(
    _ORDERS.c.id.in_(bindparam("ids", expanding=True))
)


@dataclass
class _Waiter:
    after_seq: int
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class OrderWatcher:
    """Wakes requests waiting on orders when those orders' `seq` moves."""

    def __init__(self, engine: AsyncEngine, tick: float = TICK_SECONDS) -> None:
        self._engine = engine
        self._tick = tick
        self._waiters: dict[str, list[_Waiter]] = defaultdict(list)
        self._count = 0
        self._poller: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Requests waiting now."""
        return self._count

    async def wait(self, order_id: str, after_seq: int, timeout: float) -> None:
        """Return when the order's seq exceeds `after_seq`, or after `timeout` seconds."""
        if self._count >= MAX_WAITERS:
            return
        waiter = _Waiter(after_seq)
        self._waiters[order_id].append(waiter)
        self._count += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.changed.wait(), timeout)
        finally:
            self._forget(order_id, waiter)

    def _forget(self, order_id: str, waiter: _Waiter) -> None:
        waiters = self._waiters.get(order_id)
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
            self._count -= 1
            if not waiters:
                del self._waiters[order_id]

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self._tick)
            ids = list(self._waiters)
            if not ids:
                break
            try:
                seqs = await self._seqs(ids)
            except Exception:  # the database is away: waiters time out and answer from it
                log.warning("order watch: reading seq failed", exc_info=True)
                continue
            for order_id in ids:
                seq = seqs.get(order_id)
                for waiter in list(self._waiters.get(order_id, ())):
                    # A vanished order (purged) wakes its waiters too: they answer 404.
                    if seq is None or seq > waiter.after_seq:
                        waiter.changed.set()

    async def _seqs(self, order_ids: list[str]) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(_SEQS, {"ids": order_ids})
            return {str(order_id): int(seq) for order_id, seq in rows}
