"""The shared poller behind `GET /orders/{id}/watch`, on a real SQLite database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from services.db.engine import make_async_engine
from services.db.migrate import upgrade
from services.ops import watch
from services.ops.watch import OrderWatcher


@pytest.fixture
def watcher(tmp_path: Path) -> OrderWatcher:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    return OrderWatcher(make_async_engine(url), tick=0.01)


async def test_a_wait_on_a_vanished_order_answers_at_once(watcher: OrderWatcher) -> None:
    began = time.monotonic()
    # An order that does not exist (purged while waited on) wakes its waiters at once.
    await asyncio.gather(*(watcher.wait("ORD-NONE", 0, 30) for _ in range(3)))
    assert time.monotonic() - began < 15  # woken, not held for the 30 s
    assert watcher.waiting == 0


async def test_a_timed_out_wait_leaves_no_waiter_behind(
    watcher: OrderWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watched order exists and never moves past seq 3.
    async def never_moves(ids: list[str]) -> dict[str, int]:
        return dict.fromkeys(ids, 3)

    monkeypatch.setattr(watcher, "_seqs", never_moves)
    began = time.monotonic()
    await asyncio.gather(*(watcher.wait("ORD-STILL", 3, 0.3) for _ in range(3)))
    assert time.monotonic() - began >= 0.3
    assert watcher.waiting == 0
    await watcher.wait("ORD-STILL", 2, 30)  # and the poller still wakes the next waiter
    assert watcher.waiting == 0


async def test_past_the_cap_a_wait_answers_at_once(
    watcher: OrderWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "MAX_WAITERS", 0)
    began = time.monotonic()
    await watcher.wait("ORD-ANY", 0, 30)
    assert time.monotonic() - began < 15  # not held for the 30 s
    assert watcher.waiting == 0
