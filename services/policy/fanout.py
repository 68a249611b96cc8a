"""The rule-set workflow's store on the database, and how it reaches the order workflows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import col
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from schemas.ruleset_io import Activated, ActivateRequest, FanOutBatch, FanOutDone, FanOutResult
from schemas.rulesets import OutcomeChange
from schemas.workflow_io import RedetermineRequest
from services.db.engine import SessionFactory
from services.db.models import OrderRow
from services.policy import lifecycle
from services.policy.impact import Determiner, OpenOrder, assess_open, read_open
from services.rules_store import DbRuleSource
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow
from workflows.ruleset_activities import Changed, Signal


@dataclass
class ChangedOrder:
    """An open order whose outcome changes, and the signal that tells it."""

    order_id: str
    request: RedetermineRequest


def mark_checked(session_factory: SessionFactory, order_ids: list[str], version: str) -> None:
    """These orders' outcomes do not change under `version`: sweeps need not look again."""
    if not order_ids:
        return
    with session_factory() as session:
        session.connection().execute(
            update(OrderRow)
            .where(col(OrderRow.id).in_(order_ids))
            .values(rules_checked_version=version)
        )
        session.commit()


def judge(
    orders: list[OpenOrder], determiner: Determiner, version: str, event: str
) -> tuple[list[ChangedOrder], list[str]]:
    """Split open orders into those whose outcome changes (with their signal) and the rest."""
    changed: list[ChangedOrder] = []
    unchanged: list[str] = []
    for order in orders:
        found = assess_open(order, determiner)
        if found is None:
            continue
        if found.impact.change is OutcomeChange.UNCHANGED:
            unchanged.append(order.id)
            continue
        req = RedetermineRequest(
            ruleset_version=version, event=event, determination=determiner(order.booking)
        )
        changed.append(ChangedOrder(order.id, req))
    return changed, unchanged


class SqlPolicyStore:
    """Activation, expiry and fan-out batches: short transactions, reads kept apart."""

    def __init__(self, read: SessionFactory, write: SessionFactory, rules: DbRuleSource) -> None:
        self._read, self._write, self._rules = read, write, rules
        self._determiners: dict[tuple[str, date], Determiner] = {}

    def activate(self, req: ActivateRequest) -> Activated:
        """Put the rule set in force."""
        with self._write() as session:
            done = lifecycle.activate(session, version=req.version, at=req.at)
            session.commit()
        return done

    def expire(self, req: ActivateRequest) -> Activated:
        """End the rule set."""
        with self._write() as session:
            done = lifecycle.expire(session, version=req.version, at=req.at)
            session.commit()
        return done

    def dated_change(self, req: ActivateRequest) -> Activated:
        """A dated change of the rule set: fan out if it is still in force."""
        with self._write() as session:
            done = lifecycle.dated_change(session, version=req.version, at=req.at)
            session.commit()
        return done

    def _determiner(self, target: str, on: date) -> Determiner:
        key = (target, on)
        if key not in self._determiners:
            # Kept for the next batch of the same fan-out, which runs one batch after another.
            self._determiners = {key: Determiner(self._rules.catalog_of(target), on)}
        return self._determiners[key]

    def batch(self, req: FanOutBatch) -> tuple[FanOutResult, list[Changed]]:
        """Judge the next open orders under the target rules; mark the unchanged checked."""
        cursor = req.cursor
        with self._read() as session:
            if lifecycle.in_force(session) != cursor.target:
                stopped = FanOutResult(after=cursor.after, seen=0, changed=0, finished=False)
                return stopped.model_copy(update={"stopped": True}), []
            orders = read_open(session, after=cursor.after, limit=req.limit)
        determiner = self._determiner(cursor.target, cursor.on)
        changed, unchanged = judge(orders, determiner, req.version, cursor.event)
        mark_checked(self._write, unchanged, cursor.target)
        result = FanOutResult(
            after=orders[-1].id if orders else cursor.after,
            seen=len(orders),
            changed=len(changed),
            finished=len(orders) < req.limit,
        )
        return result, list(changed)

    def progress(self, req: FanOutBatch, result: FanOutResult) -> None:
        """Write done/total after a batch (absolute figures: a retry writes the same)."""
        cursor = req.cursor.model_copy(
            update={
                "after": result.after,
                "done": req.cursor.done + result.seen,
                "changed": req.cursor.changed + result.changed,
            }
        )
        with self._write() as session:
            lifecycle.record_progress(
                session, version=req.version, cursor=cursor, at=datetime.now(UTC)
            )
            session.commit()

    def finish(self, done: FanOutDone) -> None:
        """Record the fan-out's end."""
        with self._write() as session:
            lifecycle.finish(session, done)
            session.commit()


def order_signaller(client: Client) -> Signal:
    """Signal an order's workflow; False when it has ended (nothing left to change)."""

    async def signal(order_id: str, req: RedetermineRequest) -> bool:
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        try:
            await handle.signal(OrderWorkflow.redetermine, req)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    return signal
