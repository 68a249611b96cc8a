"""A rule set's life after approval: activated on its date, expired on its date, fan-outs.

Called by the rule-set workflow's activities; each call is idempotent (a retried activation
finds the set already active and changes nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from schemas.ruleset_io import Activated, FanOutCursor, FanOutDone
from services.db.models import OrderRow, RuleSetEventRow, RuleSetRow
from services.policy.store import active_version, add_event
from workflows.rules.impact import NOT_REDETERMINED

SYSTEM = "system"
# Open orders a fan-out looks at; ON_HOLD ones are judged by the state they resume to.
CLOSED = sorted(s.value for s in NOT_REDETERMINED)


def in_force(session: Session) -> str:
    """The version of the rule set in force (the bundled baseline when none is active)."""
    return active_version(session)


def open_order_count(session: Session) -> int:
    """Open orders a fan-out goes through."""
    stmt = select(func.count()).select_from(OrderRow).where(_open())
    return int(session.exec(stmt).one())


def _open() -> Any:
    return col(OrderRow.state).not_in(CLOSED) & col(OrderRow.workflow_started).is_(True)


def activate(session: Session, *, version: str, at: datetime) -> Activated:
    """Put an approved rule set in force (once; a retry changes nothing)."""
    row = session.exec(
        select(RuleSetRow).where(RuleSetRow.version == version).with_for_update()
    ).one()
    before = in_force(session)
    if row.expired_at is not None or row.approved_at is None:
        return Activated(done=False, in_force=before, changed_in_force=False)
    if row.activated_at is None:
        row.activated_at = at
        session.add(row)
        session.flush()
        data = {"previous": before, "effective_on": row.effective_from.isoformat()}
        add_event(session, version, at=at, actor=SYSTEM, action="activated", data=data)
    now = in_force(session)
    done = Activated(
        done=True,
        in_force=now,
        changed_in_force=now == version,
        open_orders=open_order_count(session),
    )
    if done.changed_in_force and row.fan_out is None:
        # Progress from the start: sweeps leave the open orders to this fan-out meanwhile.
        cursor = FanOutCursor(event="activated", target=now, on=at.date(), total=done.open_orders)
        record_progress(session, version=version, cursor=cursor, at=at)
    return done


def expire(session: Session, *, version: str, at: datetime) -> Activated:
    """End a temporary rule set; the set in force before it decides again."""
    row = session.exec(
        select(RuleSetRow).where(RuleSetRow.version == version).with_for_update()
    ).one()
    before = in_force(session)
    if row.expired_at is None:
        row.expired_at = at
        session.add(row)
        session.flush()
        now = in_force(session)
        data = {"was_in_force": before == version, "in_force": now}
        add_event(session, version, at=at, actor=SYSTEM, action="expired", data=data)
        done = Activated(
            done=True,
            in_force=now,
            changed_in_force=before == version,
            open_orders=open_order_count(session),
        )
        if done.changed_in_force:
            cursor = FanOutCursor(event="expired", target=now, on=at.date(), total=done.open_orders)
            record_progress(session, version=version, cursor=cursor, at=at)
        return done
    # A retry: the expiry's event says whether it changed the set in force.
    event = session.exec(
        select(RuleSetEventRow).where(
            RuleSetEventRow.version == version, RuleSetEventRow.action == "expired"
        )
    ).first()
    was = bool(event is not None and event.data.get("was_in_force"))
    return Activated(
        done=True, in_force=before, changed_in_force=was, open_orders=open_order_count(session)
    )


def dated_change(session: Session, *, version: str, at: datetime) -> Activated:
    """A change dated inside the rule set starts: re-determine if the set is in force."""
    now = in_force(session)
    if now != version:
        return Activated(done=True, in_force=now, changed_in_force=False)
    done = Activated(
        done=True, in_force=now, changed_in_force=True, open_orders=open_order_count(session)
    )
    day = at.date()
    cursor = FanOutCursor(event="dated-change", target=now, on=day, total=done.open_orders)
    row = session.get(RuleSetRow, version)
    if row is not None and (row.fan_out or {}).get("on") != day.isoformat():  # not a retry
        add_event(session, version, at=at, actor=SYSTEM, action="dated-change",
                  reason=f"rules of this set dated {day} apply from today")  # fmt: skip
        record_progress(session, version=version, cursor=cursor, at=at)
    return done


def record_progress(session: Session, *, version: str, cursor: FanOutCursor, at: datetime) -> None:
    """Write a fan-out's progress where `GET /rulesets/{version}` reads it."""
    row = session.get(RuleSetRow, version)
    if row is None:
        return
    started = (row.fan_out or {}).get("started_at") if _same_run(row, cursor) else None
    row.fan_out = {
        "event": cursor.event,
        "on": cursor.on.isoformat(),
        "done": cursor.done,
        "total": max(cursor.total, cursor.done),
        "changed": cursor.changed,
        "started_at": started or at.isoformat(),
        "finished_at": None,
    }
    session.add(row)


def _same_run(row: RuleSetRow, cursor: FanOutCursor) -> bool:
    current = row.fan_out or {}
    return current.get("event") == cursor.event and current.get("on") == cursor.on.isoformat()


def finish(session: Session, done: FanOutDone) -> None:
    """A fan-out is over: its figures become an event of the rule set."""
    row = session.get(RuleSetRow, done.version)
    if row is None or (row.fan_out or {}).get("finished_at"):
        return  # a retry
    c = done.cursor
    record_progress(session, version=done.version, cursor=c, at=done.at)
    assert row.fan_out is not None
    row.fan_out = row.fan_out | {"total": c.done, "finished_at": done.at.isoformat()}
    session.add(row)
    data = {"event": c.event, "rules": c.target, "orders": c.done, "changed": c.changed}
    reason = "superseded before the fan-out ended" if done.stopped else None
    add_event(session, done.version, at=done.at, actor=SYSTEM, action="fan-out", reason=reason,
              data=data)  # fmt: skip


def unstarted_timers(session: Session, *, limit: int = 50) -> list[RuleSetRow]:
    """Approved rule sets whose workflow has not been started yet (Temporal was away)."""
    return list(
        session.exec(
            select(RuleSetRow)
            .where(
                col(RuleSetRow.approved_at).is_not(None),
                col(RuleSetRow.workflow_started).is_(False),
                col(RuleSetRow.expired_at).is_(None),
            )
            .limit(limit)
        ).all()
    )


def mark_timer_started(session: Session, *, version: str) -> None:
    """The rule set's workflow runs; the sweeper leaves it alone."""
    row = session.get(RuleSetRow, version)
    if row is not None and not row.workflow_started:
        row.workflow_started = True
        session.add(row)
