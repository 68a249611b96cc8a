"""Identical reads in flight together share one execution, never one that began before them."""

from __future__ import annotations

import asyncio

import pytest

from services.ops.coalesce import Coalescer


class Source:
    """A read whose answer is how many times it has run; it waits until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def read(self) -> int:
        self.runs += 1
        self.started.set()
        await self.release.wait()
        return self.runs


async def test_callers_waiting_together_share_the_next_execution() -> None:
    pages: Coalescer[int] = Coalescer()
    source = Source()
    first = asyncio.create_task(pages.run("page", source.read))
    await source.started.wait()  # the first execution is under way
    later = [asyncio.create_task(pages.run("page", source.read)) for _ in range(5)]
    await asyncio.sleep(0)
    source.release.set()
    # The first caller gets the execution it started; the five that came while it ran do not
    # share it (it began before them) but share the next one.
    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 5
    assert source.runs == 2


async def test_different_keys_do_not_share() -> None:
    pages: Coalescer[int] = Coalescer()
    source = Source()
    source.release.set()
    assert await asyncio.gather(pages.run("a", source.read), pages.run("b", source.read)) in (
        [1, 2],
        [2, 1],
    )


async def test_a_failure_reaches_every_caller_of_that_execution_only() -> None:
    pages: Coalescer[int] = Coalescer()
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ValueError("database away")
        return calls

    together = [asyncio.create_task(pages.run("page", flaky)) for _ in range(3)]
    results = await asyncio.gather(*together, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert await pages.run("page", flaky) == 2


async def test_a_caller_that_goes_away_does_not_break_the_others() -> None:
    pages: Coalescer[int] = Coalescer()
    source = Source()
    gone = asyncio.create_task(pages.run("page", source.read))
    stays = asyncio.create_task(pages.run("page", source.read))
    await source.started.wait()
    gone.cancel()
    source.release.set()
    assert await stays == 1
    with pytest.raises(asyncio.CancelledError):
        await gone
