"""Re-screening of open orders when a list snapshot changes, and rule-set stragglers.

There is no change feed from the lists: a new snapshot is noticed by comparing what each open
order was last screened against with what is active now. The sweep is idempotent (the
workflow ignores a recheck it has already done), so it can run anywhere.

Rule sets reach open orders through their activation fan-out (services/policy). An order that
was between booking and determination while a fan-out ran may have been determined under the
set before: the sweep finds orders neither determined nor checked under the set in force
(once no fan-out is running) and judges them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlmodel import Session, col, select
from temporalio.client import Client

from schemas.workflow_io import RecheckRequest
from services.db.engine import SessionFactory
from services.db.models import OrderRow, RuleSetRow
from services.policy import lifecycle
from services.policy.fanout import judge, mark_checked, order_signaller
from services.policy.impact import Determiner, read_ids
from services.rules_store import DbRuleSource
from services.screening import store
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

log = logging.getLogger(__name__)

_NOT_OPEN = lifecycle.CLOSED


def stale_orders(session: Session, *, limit: int = 500) -> tuple[RecheckRequest, list[str]]:
    """The active snapshot, and the open orders last screened against another one."""
    snapshot = store.active_snapshot(session)
    req = RecheckRequest(snapshot_id=snapshot.id if snapshot else None)
    stmt = (
        select(OrderRow.id)
        .where(
            col(OrderRow.state).not_in(_NOT_OPEN),
            col(OrderRow.workflow_started).is_(True),
            col(OrderRow.screened_snapshot_id).is_distinct_from(req.snapshot_id),
        )
        .order_by(col(OrderRow.created_at))
        .limit(limit)
    )
    return req, list(session.exec(stmt).all())


async def signal_stale(client: Client, read_session: SessionFactory) -> int:
    """Signal every open order screened against an old snapshot; returns how many."""
    with read_session() as session:
        req, ids = stale_orders(session)
    for order_id in ids:
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        with contextlib.suppress(Exception):  # a finished workflow: the next sweep skips it
            await handle.signal(OrderWorkflow.recheck, req)
    return len(ids)


def fanning_out(session: Session) -> bool:
    """True while a rule set's activation or expiry is going through the open orders."""
    # Rule sets are few (a few a year): their progress is read whole.
    progress = session.exec(select(RuleSetRow.fan_out)).all()
    return any(p is not None and not p.get("finished_at") for p in progress)


def straggler_ids(session: Session, *, version: str, limit: int) -> list[str]:
    """Open orders neither determined nor found unchanged under `version`."""
    stmt = (
        select(OrderRow.id)
        .where(
            col(OrderRow.state).not_in(_NOT_OPEN),
            col(OrderRow.workflow_started).is_(True),
            col(OrderRow.ruleset_version).is_distinct_from(version),
            col(OrderRow.rules_checked_version).is_distinct_from(version),
        )
        .order_by(col(OrderRow.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


async def redetermine_stragglers(
    client: Client, read: SessionFactory, write: SessionFactory, *, limit: int = 200
) -> int:
    """Judge open orders the set in force has not reached; signal those that change."""
    with read() as session:
        version = lifecycle.in_force(session)
        if fanning_out(session):
            return 0  # the fan-out gets to them
        orders = read_ids(session, straggler_ids(session, version=version, limit=limit))
    if not orders:
        return 0
    today = datetime.now(UTC).date()
    determiner = Determiner(DbRuleSource(read).catalog_of(version), today)
    changed, unchanged = judge(orders, determiner, version, "activated")
    signal = order_signaller(client)
    for item in changed:
        if not await signal(item.order_id, item.request):
            unchanged.append(item.order_id)  # its workflow has ended: nothing to change
    mark_checked(write, unchanged, version)
    return len(orders)


async def run_recheck(
    client: Client,
    read_session: SessionFactory,
    write_session: SessionFactory,
    *,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Sweep until `stop` is set."""
    while not stop.is_set():
        try:
            if n := await signal_stale(client, read_session):
                log.info("asked %d open order(s) to re-screen", n)
            if n := await redetermine_stragglers(client, read_session, write_session):
                log.info("judged %d open order(s) under the rule set in force", n)
        except Exception:  # the next round retries; a sweeper must not die
            log.exception("recheck sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
