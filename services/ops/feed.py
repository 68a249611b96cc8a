"""Long polls of the change feed: all waiting requests of a process share one poller.

While anyone waits, one indexed read of the feed's last position per tick (off the event loop)
wakes every waiter whose cursor it has passed, however many there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from services.db import changes_repo
from services.ops.offload import DbThreads

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05  # how soon a committed change wakes a waiting consumer
MAX_WAITERS = 2_000  # past this a long poll answers at once (the consumer just asks again)


class FeedWatcher:
    """Wakes requests waiting for changes after their cursor."""

    def __init__(self, engine: Engine, threads: DbThreads, tick: float = TICK_SECONDS) -> None:
        self._engine = engine
        self._threads = threads
        self._tick = tick
        self._waiters: dict[asyncio.Event, int] = {}
        self._poller: asyncio.Task[None] | None = None

    async def wait(self, after: int, timeout: float) -> None:
        """Return when a change past `after` is committed, or after `timeout` seconds."""
        if len(self._waiters) >= MAX_WAITERS or timeout <= 0:
            return
        woken = asyncio.Event()
        self._waiters[woken] = after
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout)
        finally:
            self._waiters.pop(woken, None)

    def _last_position(self) -> int:
        with self._engine.connect() as conn:
            return changes_repo.last_position(conn)

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self._tick)
            try:
                last = await self._threads.run(self._last_position)
            except Exception:  # the database is away: waiters time out and ask again
                log.warning("change feed: reading the last position failed", exc_info=True)
                continue
            for woken, after in list(self._waiters.items()):
                if last > after:
                    woken.set()
