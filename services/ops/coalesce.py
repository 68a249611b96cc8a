"""Identical reads that arrive together share one execution.

A read joins the next execution of its key that has not started yet, never one already under
way: so its answer comes from a query that began after the request arrived and shows every write
committed before it. Under load, the clients listing the same page wait for one query and one
rendering instead of one each (`GET /orders` at 64 connections: bench/NOTES.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    """Runs `work` once for all the callers of a key that are waiting when it starts."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, list[asyncio.Future[T]]] = {}
        self._running: dict[Hashable, asyncio.Task[None]] = {}

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`'s result (or exception), shared with the callers of the same execution."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._drain(key, work))
        return await future

    async def _drain(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> None:
        try:
            while waiters := self._waiting.pop(key, None):
                try:
                    result = await work()
                except Exception as exc:  # each waiter of this execution gets the failure
                    for future in waiters:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for future in waiters:
                    if not future.done():  # its request may have gone away
                        future.set_result(result)
        finally:
            del self._running[key]
