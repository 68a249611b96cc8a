"""Starting an order's workflow, shared by the API and the outbox sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas.orders import BookOrderRequest
from schemas.workflow_io import WORKFLOW_REVISION, OrderInput, OrderPolicy
from services.config import Settings, get_settings
from services.db import orders_repo
from services.db.engine import SessionFactory
from services.db.models import OrderRow
from services.db.money import utc
from services.policy.timers import sweep_timers
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

log = logging.getLogger(__name__)


def policy_of(settings: Settings) -> OrderPolicy:
    """Deadlines and thresholds from the settings, fixed into each order at its start."""
    return OrderPolicy(
        review_business_days=settings.review_business_days,
        license_decision_days=settings.license_decision_days,
        four_eyes_threshold=settings.four_eyes_threshold_usd,
    )


def order_input(row: OrderRow, policy: OrderPolicy | None = None) -> OrderInput:
    """The workflow's start input, rebuilt from the booked order row."""
    return OrderInput(
        order_id=row.id,
        booked_by=row.created_by,
        booked_at=utc(row.created_at),
        booking=BookOrderRequest.model_validate(row.booking),
        policy=policy or policy_of(get_settings()),
        revision=WORKFLOW_REVISION,
    )


async def start_order_workflow(
    client: Client, row: OrderRow, *, task_queue: str, policy: OrderPolicy | None = None
) -> None:
    """Start the order's workflow; starting it twice is harmless (the running one is kept)."""
    # Already started and finished is what we wanted too.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await _start(client, row, task_queue=task_queue, policy=policy)


async def _start(
    client: Client, row: OrderRow, *, task_queue: str, policy: OrderPolicy | None
) -> None:
    await client.start_workflow(
        OrderWorkflow.run,
        order_input(row, policy),
        id=workflow_id_for(row.id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A finished order's id is never reused: a replayed booking must not run it again.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def sweep_unstarted(
    client: Client, write_session: SessionFactory, *, task_queue: str, grace: timedelta
) -> int:
    """Start the workflows of booked orders not yet marked started; returns how many.

    Those are bookings the API accepted while Temporal was away, and orders whose workflow has
    not yet written its first step (the API does not mark a start; for those the start here is
    a no-op on the same workflow id).
    """
    cutoff = datetime.now(UTC) - grace
    # The database work runs in threads, and no transaction is open while Temporal is called:
    # with Temporal away the start retries for a long while, and on SQLite an open write
    # transaction would hold the lock every booking needs meanwhile.
    ids = await asyncio.to_thread(_unstarted, write_session, cutoff)
    started = 0
    for order_id in ids:
        row = await asyncio.to_thread(_still_unstarted, write_session, order_id)
        if row is None:
            continue
        await start_order_workflow(client, row, task_queue=task_queue)
        await asyncio.to_thread(_mark_started, write_session, order_id)
        started += 1
    return started


def _unstarted(write_session: SessionFactory, cutoff: datetime) -> list[str]:
    with write_session() as session:
        return orders_repo.unstarted_orders(session, booked_before=cutoff)


def _still_unstarted(write_session: SessionFactory, order_id: str) -> OrderRow | None:
    with write_session() as session:
        row = orders_repo.get_order(session, order_id)
        return None if row is None or row.workflow_started else row


def _mark_started(write_session: SessionFactory, order_id: str) -> None:
    with write_session() as session:
        orders_repo.mark_workflow_started(session, order_id=order_id)
        session.commit()


async def run_outbox(
    client: Client,
    write_session: SessionFactory,
    *,
    settings: Settings,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Sweep until `stop` is set; a failed sweep is logged and tried again next round."""
    while not stop.is_set():
        try:
            n = await sweep_unstarted(
                client,
                write_session,
                task_queue=settings.task_queue,
                grace=timedelta(seconds=interval),
            )
            if n:
                # Bookings made while Temporal was away, and orders whose first step is late
                # (their start is a no-op: same workflow id).
                log.info("ensured the workflows of %d booked order(s)", n)
            if n := await sweep_timers(client, write_session, settings):
                log.info("started the timers of %d approved rule set(s)", n)
        except Exception:  # the next round retries; a sweeper must not die
            log.exception("outbox sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
