"""The change feed under concurrent writers: a stored cursor never skips a change, on both backends.

Writers book orders and record transitions in threads, each pausing a random moment between
its writes and its commit, so transactions commit in an order unlike the one they started in.
A reader follows the feed with a cursor meanwhile. Had positions come from a sequence or an
autoincrement id, a transaction holding position 10 could commit after the one holding 11,
and a reader that had moved past 11 would never see 10.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from schemas.orders import BookOrderRequest, OrderState, OrderStatus
from schemas.workflow_io import TransitionRecord
from services.db import changes_repo, orders_repo
from services.db.engine import make_engine, session_factory
from tests.conftest import BACKENDS, migrated_database
from tests.harness import booking

WRITERS = 6
ORDERS_PER_WRITER = 12
STEPS_PER_ORDER = 2


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh migrated database of each backend."""
    with migrated_database(request.param, tmp_path) as url:
        engine = make_engine(url, pool_size=WRITERS + 2)
        yield engine
        engine.dispose()


def _pause(rng: random.Random) -> None:
    time.sleep(rng.uniform(0, 0.01))


def _writer(engine: Engine, seed: int, written: list[tuple[str, int]]) -> None:
    rng = random.Random(seed)
    sessions = session_factory(engine, write=True)
    body = BookOrderRequest.model_validate(booking())
    for _ in range(ORDERS_PER_WRITER):
        order_id = f"ORD-T{uuid.uuid4().hex[:10].upper()}"
        with sessions() as session:
            now = datetime.now(UTC)
            orders_repo.insert_order(
                session,
                order_id=order_id,
                booking=body,
                created_by="alice",
                idempotency_key=None,
                request_hash="x",
                now=now,
            )
            _pause(rng)  # holds its position uncommitted while others try to write
            session.commit()
        written.append((order_id, 0))
        for seq in range(1, STEPS_PER_ORDER + 1):
            rec = TransitionRecord(
                order_id=order_id,
                seq=seq,
                at=datetime.now(UTC),
                actor="system",
                action="screen",
                from_state=OrderState.BOOKED,
                to_state=OrderState.SCREENING,
                status=OrderStatus(state=OrderState.SCREENING),
            )
            with sessions() as session:
                orders_repo.record_transition(session, rec)
                _pause(rng)
                session.commit()
            written.append((order_id, seq))


def _follow(engine: Engine, stop: threading.Event, seen: list[tuple[int, str, int]]) -> None:
    cursor = 0
    while True:
        finished = stop.is_set()  # read before the last page, so the last page sees all
        with engine.connect() as conn:
            rows = changes_repo.read_changes(conn, after=cursor, limit=7)
        seen.extend((r.position, r.order_id, r.seq) for r in rows)
        if rows:
            cursor = rows[-1].position
        elif finished:
            return


def test_a_cursor_sees_every_change_of_concurrent_writers_exactly_once(engine: Engine) -> None:
    written: list[tuple[str, int]] = []
    seen: list[tuple[int, str, int]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_follow, args=(engine, stop, seen))
    writers = [
        threading.Thread(target=_writer, args=(engine, seed, written)) for seed in range(WRITERS)
    ]
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert len(written) == WRITERS * ORDERS_PER_WRITER * (1 + STEPS_PER_ORDER)
    positions = [p for p, _, _ in seen]
    assert positions == sorted(set(positions)), "the feed repeated or reordered a change"
    assert sorted((o, s) for _, o, s in seen) == sorted(written), "the cursor skipped changes"
    # Within an order, changes come in its own sequence.
    by_order: dict[str, list[int]] = {}
    for _, order_id, seq in seen:
        by_order.setdefault(order_id, []).append(seq)
    assert all(seqs == sorted(seqs) for seqs in by_order.values())


def test_a_replayed_transition_takes_no_second_place_in_the_feed(engine: Engine) -> None:
    written: list[tuple[str, int]] = []
    # One writer's orders and steps, then a step again (an activity retried after a crash).
    _writer(engine, 7, written)
    with engine.connect() as conn:
        before = changes_repo.read_changes(conn, after=0, limit=1000)
    order_id = written[0][0]
    rec = TransitionRecord(
        order_id=order_id,
        seq=1,
        at=datetime.now(UTC),
        actor="system",
        action="screen",
        from_state=OrderState.BOOKED,
        to_state=OrderState.SCREENING,
        status=OrderStatus(state=OrderState.SCREENING),
    )
    with session_factory(engine, write=True)() as session:
        assert orders_repo.record_transition(session, rec) is False
        session.commit()
    with engine.connect() as conn:
        after = changes_repo.read_changes(conn, after=0, limit=1000)
        assert after == before
        assert changes_repo.last_position(conn) == before[-1].position
