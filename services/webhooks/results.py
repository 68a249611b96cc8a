"""Recording attempts: each one logged, its delivery moved on, the subscription's health kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from services.db.webhook_models import WebhookAttemptRow, WebhookDeliveryRow, WebhookRow
from services.webhooks import outbox
from services.webhooks.policy import Backoff, outcome_of

_ATTEMPTS = WebhookAttemptRow.__table__  # type: ignore[attr-defined]
_DELIVERIES = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
_SUBS = WebhookRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP request of a delivery got."""

    delivery_id: str
    attempt: int
    at: datetime
    first_attempt_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None = None


def _apply(conn: Connection, r: AttemptResult, backoff: Backoff, now: datetime) -> str | None:
    """Log one attempt and move its delivery; the attempt's outcome (None: delivery gone)."""
    outcome: str = outcome_of(r.status_code)
    values: dict[str, object] = {
        "attempts": r.attempt,
        "last_attempt_at": r.at,
        "first_attempt_at": r.first_attempt_at,
        "last_status_code": r.status_code,
        "last_error": r.error,
    }
    if outcome == "delivered":
        values |= {"status": "delivered", "delivered_at": now}
    elif outcome == "rejected":
        values |= {"status": "rejected"}
    else:
        nxt = backoff.next_attempt(
            failures=r.attempt,
            first_attempt_at=r.first_attempt_at,
            now=now,
            retry_after=r.retry_after,
        )
        values |= {"next_attempt_at": nxt} if nxt else {"status": "failed"}
        outcome = "retry" if nxt else "failed"
    moved = conn.execute(
        _DELIVERIES.update()
        .where(_DELIVERIES.c.id == r.delivery_id, _DELIVERIES.c.status == "pending")
        .values(**values)
    )
    if moved.rowcount != 1:  # deleted with its subscription, or redelivered meanwhile
        return None
    conn.execute(
        _ATTEMPTS.insert().values(
            delivery_id=r.delivery_id,
            attempt=r.attempt,
            at=r.at,
            status_code=r.status_code,
            latency_ms=r.latency_ms,
            outcome=outcome,
            error=r.error,
        )
    )
    return outcome


def record(
    conn: Connection,
    *,
    webhook_id: str,
    results: list[AttemptResult],
    backoff: Backoff,
    now: datetime,
) -> bool:
    """Record a batch of attempts of one subscription; True when it is now failing."""
    failed: list[AttemptResult] = []
    for r in results:
        outcome = _apply(conn, r, backoff, now)
        if outcome == "failed" or (outcome == "rejected" and r.status_code == 410):
            failed.append(r)
    last = max(results, key=lambda r: r.at)
    conn.execute(
        _SUBS.update()
        .where(_SUBS.c.id == webhook_id)
        .values(last_attempt_at=last.at, last_status_code=last.status_code, last_error=last.error)
    )
    if not failed:
        return False
    r = failed[0]
    what = f"answered {r.status_code}" if r.status_code else (r.error or "no answer")
    reason = (
        "the receiver answered 410 Gone"
        if r.status_code == 410
        else f"delivery {r.delivery_id} gave up after {r.attempt} attempts: {what}"
    )
    outbox.failing(conn, webhook_id=webhook_id, reason=reason, now=now)
    return True


def is_active(conn: Connection, webhook_id: str) -> bool:
    """The subscription still exists and is not failing."""
    status = conn.execute(select(_SUBS.c.status).where(_SUBS.c.id == webhook_id)).scalar()
    return status == "active"
