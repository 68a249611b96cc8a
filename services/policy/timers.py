"""Starting a rule set's workflow (its timer), from the approval or the outbox sweeper."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas.catalog import RuleSet
from schemas.ruleset_io import RuleSetInput
from services.config import Settings
from services.db.engine import SessionFactory
from services.db.models import RuleSetRow
from services.policy import lifecycle
from workflows.rules.ruleset_dates import change_dates
from workflows.ruleset import RuleSetWorkflow, ruleset_workflow_id


def timer_input(row: RuleSetRow, settings: Settings) -> RuleSetInput:
    """The workflow's start input for an approved rule set."""
    rules = RuleSet.model_validate(row.body)
    return RuleSetInput(
        version=row.version,
        effective_on=row.effective_from,
        expires_on=row.expires_on,
        dated=change_dates(rules, after=row.effective_from, before=row.expires_on),
        batch_size=settings.policy_fanout_batch_size,
        batches_per_run=settings.policy_fanout_batches_per_run,
    )


async def start_timer(client: Client, row: RuleSetRow, settings: Settings) -> None:
    """Start the rule set's workflow; a second start is harmless (the running one is kept)."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            RuleSetWorkflow.run,
            timer_input(row, settings),
            id=ruleset_workflow_id(row.version),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A finished rule set's timer never runs twice.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )


async def sweep_timers(client: Client, write_session: SessionFactory, settings: Settings) -> int:
    """Start the workflows of approved rule sets approved while Temporal was away (the
    database work in threads, off the worker's event loop)."""
    rows = await asyncio.to_thread(_unstarted, write_session)
    for row in rows:
        await start_timer(client, row, settings)
        await asyncio.to_thread(_mark_started, write_session, row.version)
    return len(rows)


def _unstarted(write_session: SessionFactory) -> list[RuleSetRow]:
    with write_session() as session:
        return list(lifecycle.unstarted_timers(session))


def _mark_started(write_session: SessionFactory, version: str) -> None:
    with write_session() as session:
        lifecycle.mark_timer_started(session, version=version)
        session.commit()
