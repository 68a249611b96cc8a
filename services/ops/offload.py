"""Database calls of async routes, run off the event loop in a bounded pool of threads.

Routes written for the async path (change feed, webhooks) hand their synchronous repository
calls to `DbThreads.run`, so a slow query never stalls the loop, and at most `tokens` of them
hold a thread (and a pooled connection) at once. When the API moves to SQLAlchemy's asyncio
session (issue 11), these call sites become `await session.run_sync(fn, ...)` or native async
queries: the repository functions take a plain Connection or Session either way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


class DbThreads:
    """A capacity limit for database work handed to threads by async routes."""

    def __init__(self, tokens: int) -> None:
        self._tokens = tokens
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker thread; waits for a free token first."""
        if self._limiter is None:  # created on the loop that uses it
            self._limiter = anyio.CapacityLimiter(self._tokens)
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self._limiter)
