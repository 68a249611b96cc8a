"""The dispatcher's side of the database: leases, new deliveries from the feed, due ones, results.

Deliveries are an outbox: a subscription's cursor in the change feed moves only in the same
transaction that writes the deliveries for the changes it passed, so a worker that dies at any
point loses nothing (the next one carries on from the stored cursor and the stored rows).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, or_, select, update

from schemas.webhooks import WebhookData, WebhookPayload, event_type
from services.db import changes_repo, orders_repo
from services.db.models import OrderRow
from services.db.money import utc
from services.db.webhook_models import WebhookDeliveryRow, WebhookRow

_SUBS = WebhookRow.__table__  # type: ignore[attr-defined]
_DELIVERIES = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
BATCH = 200  # changes turned into deliveries per transaction


def hold_leases(
    conn: Connection, *, owner: str, now: datetime, lease: timedelta, take_new: bool = True
) -> list[str]:
    """Renew this owner's leases and take the lapsed ones; the active subscriptions it holds."""
    until = now + lease
    mine = and_(_SUBS.c.lease_owner == owner, _SUBS.c.status == "active")
    conn.execute(_SUBS.update().where(mine).values(lease_until=until))
    if take_new:
        free = or_(_SUBS.c.lease_until.is_(None), _SUBS.c.lease_until < now)
        conn.execute(
            _SUBS.update()
            .where(_SUBS.c.status == "active", free)
            .values(lease_owner=owner, lease_until=until)
        )
    return [str(r) for r in conn.execute(select(_SUBS.c.id).where(mine)).scalars()]


def release_lease(conn: Connection, *, owner: str, webhook_id: str) -> None:
    """Give a subscription up at once, so another worker need not wait for the lease to lapse."""
    conn.execute(
        _SUBS.update()
        .where(_SUBS.c.id == webhook_id, _SUBS.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


@dataclass(frozen=True)
class Subscription:
    """What a dispatcher needs of its subscription."""

    id: str
    url: str
    secret: str
    status: str
    cursor: int
    events: frozenset[str]
    states: frozenset[str]
    skus: frozenset[str]


def subscription(conn: Connection, webhook_id: str) -> Subscription | None:
    """The subscription as stored now (None once deleted)."""
    row = conn.execute(select(_SUBS).where(_SUBS.c.id == webhook_id)).first()
    if row is None:
        return None
    return Subscription(
        row.id,
        row.url,
        row.secret,
        row.status,
        int(row.cursor),
        frozenset(row.events),
        frozenset(row.states),
        frozenset(row.skus),
    )


def _wanted(sub: Subscription, change: changes_repo.ChangeRow, order: Any) -> bool:
    if sub.events and change.action not in sub.events:
        return False
    if sub.states and change.to_state not in sub.states:
        return False
    skus = {line["sku"] for line in order.booking["lines"]}
    return not sub.skus or bool(skus & sub.skus)


def _body(change: changes_repo.ChangeRow, order: Any) -> str:
    payload = WebhookPayload(
        type=event_type(change.action),
        timestamp=change.at,
        data=WebhookData(event=changes_repo.to_change(change), order=orders_repo.to_view(order)),
    )
    return payload.model_dump_json()


def new_changes(conn: Connection, sub: Subscription) -> list[changes_repo.ChangeRow]:
    """Changes past the subscription's cursor (a read: most ticks find none)."""
    return changes_repo.read_changes(conn, after=sub.cursor, limit=BATCH)


def materialize(
    conn: Connection, sub: Subscription, changes: list[changes_repo.ChangeRow], now: datetime
) -> int:
    """Write the deliveries of these changes and move the cursor past them, in one transaction.

    Changes of an order that no longer exists (a purged record) are passed over. The body is
    fixed here, so every retry sends the same bytes under the same webhook-id.
    """
    ids = list({c.order_id for c in changes})
    orders = {r.id: r for r in conn.execute(select(_ORDERS).where(_ORDERS.c.id.in_(ids)))}
    rows = [
        {
            "id": "msg_" + secrets.token_hex(12),
            "webhook_id": sub.id,
            "position": c.position,
            "order_id": c.order_id,
            "seq": c.seq,
            "event_type": event_type(c.action),
            "body": _body(c, orders[c.order_id]),
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for c in changes
        if c.order_id in orders and _wanted(sub, c, orders[c.order_id])
    ]
    # Only forward, and only from where this dispatcher read: a second dispatcher that read
    # the same changes (a lease that lapsed under it) writes nothing twice.
    moved = conn.execute(
        _SUBS.update()
        .where(_SUBS.c.id == sub.id, _SUBS.c.cursor == sub.cursor)
        .values(cursor=changes[-1].position)
    )
    if moved.rowcount != 1:
        raise StaleCursor(sub.id)
    if rows:
        conn.execute(_DELIVERIES.insert(), rows)
    return len(rows)


class StaleCursor(Exception):
    """Another dispatcher moved the subscription's cursor first; this batch is dropped."""


@dataclass(frozen=True)
class Due:
    """A delivery to send now: the head of its order's queue."""

    id: str
    order_id: str
    body: bytes
    attempts: int
    first_attempt_at: datetime | None


# Built once: a poll runs these many times a second, and rebuilding and re-keying the
# statement cost more CPU than SQLite's answer (bench/RESULTS.md, webhooks).
_D = _DELIVERIES
_EARLIER = _DELIVERIES.alias("earlier")
_BLOCKED = exists().where(
    _EARLIER.c.webhook_id == _D.c.webhook_id,
    _EARLIER.c.order_id == _D.c.order_id,
    _EARLIER.c.position < _D.c.position,
    _EARLIER.c.status.in_(("pending", "failed")),
)
_READY = (
    select(_D.c.id, _D.c.order_id, _D.c.body, _D.c.attempts, _D.c.first_attempt_at)
    .where(
        _D.c.webhook_id == bindparam("webhook_id"),
        _D.c.status == "pending",
        _D.c.next_attempt_at <= bindparam("now"),
        ~_BLOCKED,
    )
    .order_by(_D.c.position)
    .limit(bindparam("limit"))
)
# The next retry time of any pending delivery; waking for one still blocked costs a query.
_NEXT = select(func.min(_D.c.next_attempt_at)).where(
    _D.c.webhook_id == bindparam("webhook_id"),
    _D.c.status == "pending",
    _D.c.next_attempt_at > bindparam("now"),
)


def due(
    conn: Connection, *, webhook_id: str, now: datetime, skip: set[str], limit: int
) -> tuple[list[Due], datetime | None]:
    """Deliveries to send now, oldest change first, at most one per order; and the next due time.

    A delivery waits while an earlier one of the same order is still pending or has failed:
    changes of one order reach the receiver in order.
    """
    params = {"webhook_id": webhook_id, "now": now, "limit": limit + len(skip)}
    found = [
        Due(
            r.id,
            r.order_id,
            r.body.encode(),
            int(r.attempts),
            utc(r.first_attempt_at) if r.first_attempt_at else None,
        )
        for r in conn.execute(_READY, params)
        if r.id not in skip
    ][:limit]
    nxt = conn.execute(_NEXT, params).scalar()
    return found, (utc(nxt) if nxt else None)


def failing(conn: Connection, *, webhook_id: str, reason: str, now: datetime) -> None:
    """Mark a subscription failing: its dispatcher stops until a redelivery resumes it."""
    conn.execute(
        update(_SUBS)
        .where(_SUBS.c.id == webhook_id, _SUBS.c.status == "active")
        .values(status="failing", status_reason=reason, failing_since=now)
    )
