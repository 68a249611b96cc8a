"""Re-screening and re-determination of open orders when a list snapshot or rule set changes.

There is no change feed from the lists: a new snapshot or rule set is noticed by comparing
what each open order was last checked against with what is active now. The sweep is
idempotent (the workflow ignores a recheck it has already done), so it can run anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select
from temporalio.client import Client

from schemas.orders import TERMINAL_STATES, OrderState
from schemas.workflow_io import RecheckRequest
from services.db.engine import SessionFactory
from services.db.models import OrderRow
from services.rules_store import active_ruleset
from services.screening import store
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

log = logging.getLogger(__name__)

_NOT_OPEN = [s.value for s in TERMINAL_STATES] + [
    OrderState.SHIPPED.value,
    OrderState.BOOKED.value,
    OrderState.SCREENING.value,
]


def stale_orders(session: Session, *, limit: int = 500) -> tuple[RecheckRequest, list[str]]:
    """What is active now, and the open orders last checked against something else."""
    snapshot = store.active_snapshot(session)
    ruleset = active_ruleset(session, today=datetime.now(UTC).date())
    req = RecheckRequest(
        snapshot_id=snapshot.id if snapshot else None, ruleset_version=ruleset.version
    )
    stmt = (
        select(OrderRow.id)
        .where(
            col(OrderRow.state).not_in(_NOT_OPEN),
            col(OrderRow.workflow_started).is_(True),
            or_(
                col(OrderRow.screened_snapshot_id).is_distinct_from(req.snapshot_id),
                col(OrderRow.ruleset_version).is_distinct_from(req.ruleset_version),
            ),
        )
        .order_by(col(OrderRow.created_at))
        .limit(limit)
    )
    return req, list(session.exec(stmt).all())


async def signal_stale(client: Client, read_session: SessionFactory) -> int:
    """Signal every stale open order to recheck; returns how many were signalled."""
    with read_session() as session:
        req, ids = stale_orders(session)
    for order_id in ids:
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        with contextlib.suppress(Exception):  # a finished workflow: the next sweep skips it
            await handle.signal(OrderWorkflow.recheck, req)
    return len(ids)


async def run_recheck(
    client: Client, read_session: SessionFactory, *, interval: float, stop: asyncio.Event
) -> None:
    """Sweep until `stop` is set."""
    while not stop.is_set():
        try:
            if n := await signal_stale(client, read_session):
                log.info("asked %d open order(s) to re-screen / re-determine", n)
        except Exception:  # the next round retries; a sweeper must not die
            log.exception("recheck sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
