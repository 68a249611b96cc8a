"""Subscriptions and their delivery log in the database: what the API and the CLI manage."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from schemas.orders import OrderState
from schemas.webhooks import (
    AttemptView,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookHealth,
    WebhookView,
)
from services.db import changes_repo
from services.db.money import utc
from services.db.webhook_models import WebhookAttemptRow, WebhookDeliveryRow, WebhookRow
from services.webhooks.signing import new_secret

OPEN = ("pending", "failed")


def new_webhook_id() -> str:
    """`wh_` and 20 random hex digits."""
    return "wh_" + secrets.token_hex(10)


def create(session: Session, *, body: WebhookCreate, created_by: str, now: datetime) -> str:
    """Store a subscription that starts with the next change committed; returns its id."""
    row = WebhookRow(
        id=new_webhook_id(),
        url=body.url,
        description=body.description,
        events=sorted(set(body.events)),
        states=sorted({s.value for s in body.states}),
        skus=sorted(set(body.skus)),
        secret=new_secret(),
        created_by=created_by,
        created_at=now,
        # Positions are handed out in commit order, so every change committed from now on
        # lies past the last one committed so far.
        cursor=changes_repo.last_position(session.connection()),
    )
    session.add(row)
    session.flush()
    return row.id


def _health(row: WebhookRow, counts: Counter[str]) -> WebhookHealth:
    return WebhookHealth(
        status="failing" if row.status == "failing" else "active",
        reason=row.status_reason,
        failing_since=utc(row.failing_since) if row.failing_since else None,
        pending=counts["pending"],
        failed=counts["failed"],
        last_attempt_at=utc(row.last_attempt_at) if row.last_attempt_at else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        cursor=str(row.cursor),
    )


def _view(row: WebhookRow, counts: Counter[str]) -> WebhookView:
    return WebhookView(
        id=row.id,
        url=row.url,
        events=list(row.events),
        states=[OrderState(s) for s in row.states],
        skus=list(row.skus),
        description=row.description,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        health=_health(row, counts),
    )


def _open_counts(session: Session, webhook_ids: list[str]) -> dict[str, Counter[str]]:
    stmt = (
        select(WebhookDeliveryRow.webhook_id, WebhookDeliveryRow.status, func.count())
        .where(
            col(WebhookDeliveryRow.webhook_id).in_(webhook_ids),
            col(WebhookDeliveryRow.status).in_(OPEN),
        )
        .group_by(WebhookDeliveryRow.webhook_id, WebhookDeliveryRow.status)
    )
    counts: dict[str, Counter[str]] = {w: Counter() for w in webhook_ids}
    for webhook_id, status, n in session.execute(stmt):
        counts[webhook_id][status] = int(n)
    return counts


def list_views(session: Session) -> list[WebhookView]:
    """Every subscription with its health, oldest first."""
    rows = list(session.exec(select(WebhookRow).order_by(col(WebhookRow.created_at))))
    counts = _open_counts(session, [r.id for r in rows])
    return [_view(r, counts[r.id]) for r in rows]


def get_view(session: Session, webhook_id: str) -> WebhookView | None:
    """One subscription with its health."""
    row = session.get(WebhookRow, webhook_id)
    return None if row is None else _view(row, _open_counts(session, [row.id])[row.id])


def created_view(session: Session, webhook_id: str) -> WebhookCreated:
    """The answer to a creation: the view and, this once, the secret."""
    row = session.get(WebhookRow, webhook_id)
    assert row is not None
    return WebhookCreated(**_view(row, Counter()).model_dump(), secret=row.secret)


def remove(session: Session, webhook_id: str) -> bool:
    """Delete a subscription with its delivery log (by cascade); False when there is none."""
    gone = session.execute(delete(WebhookRow).where(col(WebhookRow.id) == webhook_id))
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def _delivery_view(row: WebhookDeliveryRow, attempts: list[WebhookAttemptRow]) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        webhook_id=row.webhook_id,
        order_id=row.order_id,
        seq=row.seq,
        event_type=row.event_type,
        status=row.status,
        attempts=[
            AttemptView(
                attempt=a.attempt,
                at=utc(a.at),
                status_code=a.status_code,
                latency_ms=round(a.latency_ms, 1),
                outcome=a.outcome,
                error=a.error,
            )
            for a in attempts
        ],
        created_at=utc(row.created_at),
        next_attempt_at=utc(row.next_attempt_at) if row.status == "pending" else None,
        delivered_at=utc(row.delivered_at) if row.delivered_at else None,
    )


def deliveries(
    session: Session, *, webhook_id: str, status: str | None, limit: int
) -> list[DeliveryView]:
    """A subscription's deliveries, newest change first, each with its attempts."""
    stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(WebhookDeliveryRow.status == status)
    newest_first = stmt.order_by(col(WebhookDeliveryRow.position).desc()).limit(limit)
    return _with_attempts(session, list(session.exec(newest_first)))


def _with_attempts(session: Session, rows: list[WebhookDeliveryRow]) -> list[DeliveryView]:
    by_delivery: dict[str, list[WebhookAttemptRow]] = {r.id: [] for r in rows}
    if rows:
        attempts = select(WebhookAttemptRow).where(
            col(WebhookAttemptRow.delivery_id).in_(list(by_delivery))
        )
        for a in session.exec(attempts.order_by(col(WebhookAttemptRow.attempt))):
            by_delivery[a.delivery_id].append(a)
    return [_delivery_view(r, by_delivery[r.id]) for r in rows]


def redeliver(
    session: Session, *, webhook_id: str, delivery_id: str, now: datetime
) -> DeliveryView | None:
    """Send a delivery again, with its webhook-id, and a new retry window.

    On a failing subscription this also resumes it: its failed deliveries are queued again
    (they failed for the same reason, mostly a receiver that was away) and go out in order.
    """
    row = session.get(WebhookDeliveryRow, delivery_id)
    sub = session.get(WebhookRow, webhook_id)
    if row is None or sub is None or row.webhook_id != webhook_id:
        return None
    again = [row]
    if sub.status == "failing":
        failed = select(WebhookDeliveryRow).where(
            WebhookDeliveryRow.webhook_id == webhook_id, WebhookDeliveryRow.status == "failed"
        )
        again += [d for d in session.exec(failed) if d.id != row.id]
        sub.status, sub.status_reason, sub.failing_since = "active", None, None
    for d in again:
        d.status, d.next_attempt_at, d.first_attempt_at = "pending", now, None
    session.flush()
    return _with_attempts(session, [row])[0]
