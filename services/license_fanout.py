"""License actions against the database and Temporal: the fan-out's store, its sender, starts.

`services.ops.license_actions` records an action and starts its workflow; if Temporal is away
then, the worker's outbox sweeper here starts it once Temporal is back (the action is in the
database already).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.license_actions import (
    LicenseActionInput,
    LicenseActionKind,
    LicenseActionResult,
    LicenseEvent,
    LicenseEventOutcome,
)
from services.config import Settings
from services.db import license_actions_repo as repo
from services.db.engine import SessionFactory
from services.db.models import LicenseActionRow
from services.db.money import utc
from workflows.ids import workflow_id_for
from workflows.license_action import LicenseActionWorkflow, license_action_workflow_id
from workflows.license_action_activities import Send
from workflows.order import OrderWorkflow

log = logging.getLogger(__name__)


class SqlLicenseActionStore:
    """Each call is one short transaction."""

    def __init__(self, write_session: SessionFactory) -> None:
        self._session = write_session

    def count(self, action_id: int) -> int:
        """How many orders the action reaches, stored once."""
        with self._session() as session:
            total = repo.count_affected(session, action_id=action_id)
            session.commit()
            return total

    def next_orders(self, action_id: int, after: str, limit: int) -> list[str]:
        """The next batch of order ids."""
        with self._session() as session:
            return repo.next_orders(session, action_id=action_id, after=after, limit=limit)

    def record(self, action_id: int, results: list[LicenseActionResult]) -> int:
        """One line per order; the progress moves on."""
        with self._session() as session:
            done = repo.record_results(session, action_id=action_id, results=results)
            session.commit()
            return done

    def finish(self, action_id: int) -> None:
        """The fan-out is done."""
        with self._session() as session:
            repo.finish(session, action_id=action_id, now=datetime.now(UTC))
            session.commit()


def sender(client: Client) -> Send:
    """Send a license event to an order's workflow as an update named by action and order.

    Sent again (a retried batch), the same update id gets the first answer back from Temporal
    rather than a second change.
    """

    async def send(order_id: str, event: LicenseEvent) -> LicenseEventOutcome | None:
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        try:
            return await handle.execute_update(
                OrderWorkflow.license_event, event, id=f"license-{event.action_id}-{order_id}"
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None  # the order's workflow has ended (or never ran)
            raise

    return send


def action_input(row: LicenseActionRow, settings: Settings) -> LicenseActionInput:
    """The fan-out workflow's input for a recorded action."""
    return LicenseActionInput(
        action_id=row.id or 0,
        kind=LicenseActionKind(row.kind),
        license_number=row.license_number,
        reason=row.reason,
        actor=row.actor,
        requested_at=utc(row.requested_at),
        batch_size=settings.license_action_batch_size,
        batches_per_run=settings.license_action_batches_per_run,
    )


async def start_fanout(client: Client, inp: LicenseActionInput, task_queue: str) -> None:
    """Start the action's fan-out workflow; starting it twice is harmless."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            LicenseActionWorkflow.run,
            inp,
            id=license_action_workflow_id(inp.action_id, inp.requested_at),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


async def sweep_unstarted_actions(
    client: Client, write_session: SessionFactory, settings: Settings, grace: timedelta
) -> int:
    """Start the fan-outs of actions recorded while Temporal was away; returns how many."""
    inputs = await asyncio.to_thread(_unstarted, write_session, settings, grace)
    for inp in inputs:
        await start_fanout(client, inp, settings.task_queue)
        await asyncio.to_thread(_mark_started, write_session, inp.action_id)
    if inputs:
        log.info("started the fan-out of %d license action(s)", len(inputs))
    return len(inputs)


def _unstarted(
    write_session: SessionFactory, settings: Settings, grace: timedelta
) -> list[LicenseActionInput]:
    with write_session() as session:
        rows = repo.unstarted(session, before=datetime.now(UTC) - grace)
        return [action_input(row, settings) for row in rows]


def _mark_started(write_session: SessionFactory, action_id: int) -> None:
    with write_session() as session:
        repo.mark_started(session, action_id=action_id)
        session.commit()


async def run_action_outbox(
    client: Client, write_session: SessionFactory, settings: Settings, stop: asyncio.Event
) -> None:
    """Sweep for unstarted license actions until `stop` is set (like the order outbox)."""
    interval = settings.outbox_interval_seconds
    while not stop.is_set():
        try:
            await sweep_unstarted_actions(
                client, write_session, settings, timedelta(seconds=interval)
            )
        except Exception:  # the next round retries; a sweeper must not die
            log.exception("license action sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
