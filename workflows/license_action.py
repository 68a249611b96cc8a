"""A license action's workflow: the fan-out of a suspension, reinstatement or revocation.

Started when compliance suspends, reinstates or revokes a license (the license's status has
changed already, in the same transaction that recorded the action). It counts the orders the
action reaches, then goes through them in batches, in order id order: each batch is one
activity that sends every order an update and writes one result line per order. The cursor
is workflow state, so a crash resumes at the last finished batch; a long fan-out continues as
new every `batches_per_run` batches so its history stays small.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.license_actions import (
        BatchRequest,
        BatchResult,
        LicenseActionInput,
        LicenseEvent,
    )
    from workflows.license_action_activities import LicenseActionActivities

_PREFIX = "license-action-"
# The database or Temporal may be away for a while: keep trying rather than stop half-way.
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


def license_action_workflow_id(action_id: int, requested_at: datetime | None = None) -> str:
    """The id of the workflow that carries out one license action. The request's time is in
    it because action ids restart with each database: another database's action 1 on the same
    Temporal namespace (a restored backup, a second environment) must not be taken for this one.
    """
    if requested_at is None:
        return f"{_PREFIX}{action_id}"
    at = requested_at.astimezone(UTC) if requested_at.tzinfo else requested_at
    return f"{_PREFIX}{action_id}-{at:%Y%m%dT%H%M%S%f}"


@workflow.defn
class LicenseActionWorkflow:
    """Reach every order a license action concerns, a batch at a time."""

    @workflow.init
    def __init__(self, inp: LicenseActionInput) -> None:
        self._state = inp

    @workflow.query
    def progress(self) -> LicenseActionInput:
        """Cursor and count (the database has the same, for the license's page)."""
        return self._state

    @workflow.run
    async def run(self, inp: LicenseActionInput) -> int:
        """Count, then batches until no order is left; returns how many orders it reached."""
        st = self._state
        if not st.counted:
            await workflow.execute_activity_method(
                LicenseActionActivities.count,
                st.action_id,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_RETRY,
            )
            st.counted = True
        event = LicenseEvent(
            action_id=st.action_id,
            kind=st.kind,
            license_number=st.license_number,
            reason=st.reason,
            actor=st.actor,
        )
        for _ in range(st.batches_per_run):
            res = await self._batch(BatchRequest(event=event, after=st.after, limit=st.batch_size))
            st.after, st.done = res.after, st.done + res.seen
            if res.finished:
                await workflow.execute_activity_method(
                    LicenseActionActivities.finish,
                    st.action_id,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=_RETRY,
                )
                return st.done
        # The cursor is in the input: the new run carries on after the last finished batch.
        workflow.continue_as_new(st)

    async def _batch(self, req: BatchRequest) -> BatchResult:
        return await workflow.execute_activity_method(
            LicenseActionActivities.batch,
            req,
            # Each order answers within seconds; the heartbeat notices a lost worker sooner.
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=60),
            retry_policy=_RETRY,
        )
