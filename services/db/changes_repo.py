"""The change feed: every audit event in one global order that a stored cursor can follow.

A cursor is a feed `position`. A consumer that asks for `position > cursor` must never miss a
row that commits later with a lower position, so positions are handed out in commit order:
each writer of an event bumps the one-row `change_feed` counter in its own transaction, and
the counter's row lock is held until that transaction ends. A writer that takes position p
therefore commits after every writer of a lower position, and any snapshot that shows p shows
everything below it. (An autoincrement id would not do on PostgreSQL: ids come from a sequence
when the row is inserted, and a transaction that took id 10 may commit after the one with 11.)
On SQLite writers are serialised by the database lock anyway; the counter keeps one code path.

The writer bumps the counter as late as it can (just before inserting the event, after its
other statements), so the lock is held for one insert and the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, select

from schemas.changes import Change
from schemas.orders import OrderState
from services.db.models import FeedCounterRow, OrderEventRow
from services.db.money import utc

_COUNTER = FeedCounterRow.__table__  # type: ignore[attr-defined]
_EVENTS = OrderEventRow.__table__  # type: ignore[attr-defined]


def next_position(conn: Connection) -> int:
    """Take the next feed position; holds the counter's row lock until the transaction ends."""
    stmt = (
        _COUNTER.update()
        .where(_COUNTER.c.id == 1)
        .values(last_position=_COUNTER.c.last_position + 1)
        .returning(_COUNTER.c.last_position)
    )
    position = conn.execute(stmt).scalar_one_or_none()
    if position is None:
        raise RuntimeError("the change_feed counter row is missing: run `exportflow db upgrade`")
    return int(position)


@dataclass(frozen=True)
class ChangeRow:
    """One audit event as the feed shows it."""

    position: int
    order_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None


_COLUMNS = (
    _EVENTS.c.position,
    _EVENTS.c.order_id,
    _EVENTS.c.seq,
    _EVENTS.c.at,
    _EVENTS.c.actor,
    _EVENTS.c.action,
    _EVENTS.c.from_state,
    _EVENTS.c.to_state,
    _EVENTS.c.reason,
)


_PAGE = (
    select(*_COLUMNS)
    .where(_EVENTS.c.position > bindparam("after"))
    .order_by(_EVENTS.c.position)
    .limit(bindparam("limit"))
)  # built once: consumers and dispatchers poll it


def read_changes(conn: Connection, *, after: int, limit: int) -> list[ChangeRow]:
    """The first `limit` events after position `after`, in feed order."""
    return [
        ChangeRow(
            position=int(r.position),
            order_id=r.order_id,
            seq=int(r.seq),
            at=utc(r.at),
            actor=r.actor,
            action=r.action,
            from_state=r.from_state,
            to_state=r.to_state,
            reason=r.reason,
        )
        for r in conn.execute(_PAGE, {"after": after, "limit": limit})
    ]


def last_position(conn: Connection) -> int:
    """The highest position of a committed event (0 when there is none)."""
    found = conn.execute(select(func.max(_EVENTS.c.position))).scalar()
    return int(found or 0)


def last_position_raw(engine: Engine) -> int:
    """`last_position` through the driver itself: pollers ask it many times a second.

    Without SQLAlchemy's statement machinery an idle poll costs tens of microseconds, not
    the best part of a millisecond of CPU (bench/RESULTS.md, webhooks).
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT MAX(position) FROM order_events")
        found = cursor.fetchone()
        cursor.close()
        raw.commit()  # end the read transaction PostgreSQL opened (a no-op on SQLite)
    finally:
        raw.close()
    return int(found[0] or 0) if found else 0


def to_change(row: ChangeRow) -> Change:
    """The API's view of a feed row."""
    return Change(
        cursor=str(row.position),
        order_id=row.order_id,
        seq=row.seq,
        action=row.action,
        from_state=OrderState(row.from_state) if row.from_state else None,
        to_state=OrderState(row.to_state),
        actor=row.actor,
        at=row.at,
        reason=row.reason,
    )
