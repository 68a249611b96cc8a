"""A rule set's workflow: a durable timer to its effective date, the fan-out, its expiry.

Started when a rule set gets its second approval. It sleeps until 00:00 UTC of `effective_on`
(at once if that has passed), activates the set, then goes through the open orders in batches
(an activity each, the cursor in workflow state) and signals those whose outcome changes. A
crash resumes at the last finished batch; a long fan-out continues as new every
`batches_per_run` batches so its history stays small. While in force it wakes on the dates its
own rules change (a customs stop from a later date) and fans out again. At `expires_on` the set
expires and the orders are determined again under the set in force before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.ruleset_io import (
        Activated,
        ActivateRequest,
        FanOutBatch,
        FanOutCursor,
        FanOutDone,
        Phase,
        RuleSetInput,
    )
    from workflows.ruleset_activities import RuleSetActivities

_PREFIX = "ruleset-"
# The database may be away for a while: keep trying rather than lose an activation.
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
_BATCH_TIMEOUT = timedelta(minutes=2)


def ruleset_workflow_id(version: str) -> str:
    """The id of the workflow that activates and expires a rule set."""
    return _PREFIX + version


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@workflow.defn
class RuleSetWorkflow:
    """Activation on the effective date, fan-out to the open orders, expiry."""

    @workflow.init
    def __init__(self, inp: RuleSetInput) -> None:
        self._state = inp

    @workflow.query
    def progress(self) -> RuleSetInput:
        """Phase and fan-out cursor (the database has the same, for status lookups)."""
        return self._state

    @workflow.run
    async def run(self, inp: RuleSetInput) -> str:
        """Wait, activate, fan out; on its own dated changes fan out again; expire, fan out."""
        st = self._state
        while True:
            if st.fan_out is not None:
                await self._fan_out(st.fan_out)
                st.fan_out = None
            elif st.phase is Phase.WAITING:
                await self._until(st.effective_on)
                done = await self._call(RuleSetActivities.activate)
                st.phase = Phase.ACTIVE if done.done else Phase.DONE
                # Activation determines as of today: changes dated up to today are in it.
                st.dated = [d for d in st.dated if d > workflow.now().date()]
                st.fan_out = self._cursor("activated", done) if done.changed_in_force else None
            elif st.phase is Phase.ACTIVE and st.dated and self._dated_first():
                day, st.dated = st.dated[0], st.dated[1:]
                await self._until(day)
                done = await self._call(RuleSetActivities.dated_change)
                st.fan_out = self._cursor("dated-change", done) if done.changed_in_force else None
            elif st.phase is Phase.ACTIVE and st.expires_on is not None:
                await self._until(st.expires_on)
                done = await self._call(RuleSetActivities.expire)
                st.phase = Phase.DONE
                st.fan_out = self._cursor("expired", done) if done.changed_in_force else None
            else:
                return st.phase.value

    def _dated_first(self) -> bool:
        """The next of its own dated changes comes before the rule set expires."""
        st = self._state
        return st.expires_on is None or st.dated[0] < st.expires_on

    async def _until(self, day: date) -> None:
        wait = (_midnight(day) - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait)

    async def _call(
        self, method: Callable[[RuleSetActivities, ActivateRequest], Awaitable[Activated]]
    ) -> Activated:
        req = ActivateRequest(version=self._state.version, at=workflow.now())
        return await workflow.execute_activity_method(
            method,
            req,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=_RETRY,
        )

    def _cursor(self, event: str, done: Activated) -> FanOutCursor:
        today = workflow.now().date()
        return FanOutCursor(event=event, target=done.in_force, on=today, total=done.open_orders)

    async def _fan_out(self, cursor: FanOutCursor) -> None:
        """Batches until no open order is left; continues as new every so many batches."""
        for _ in range(self._state.batches_per_run):
            batch = FanOutBatch(
                version=self._state.version, cursor=cursor, limit=self._state.batch_size
            )
            res = await workflow.execute_activity_method(
                RuleSetActivities.fan_out_batch,
                batch,
                start_to_close_timeout=_BATCH_TIMEOUT,
                retry_policy=_RETRY,
            )
            cursor.after, cursor.done = res.after, cursor.done + res.seen
            cursor.changed += res.changed
            if res.finished or res.stopped:
                done = FanOutDone(
                    version=self._state.version,
                    cursor=cursor,
                    at=workflow.now(),
                    stopped=res.stopped,
                )
                await workflow.execute_activity_method(
                    RuleSetActivities.fan_out_done,
                    done,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=_RETRY,
                )
                return
        # The cursor is in the input: the new run carries on from the last finished batch.
        workflow.continue_as_new(self._state)
