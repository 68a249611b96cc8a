"""The order workflow: one per order, from booking to a terminal state.

It is thin on purpose: the rules live in `workflows.rules`, the IO in activities. Every manual
step is an update whose validator refuses invalid requests before they reach history; the
handler then re-checks under a lock, because two updates may have passed validation at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import (
        Action,
        Command,
        EmptyCommand,
        LicenseCommand,
        LicenseDecision,
        NoteCommand,
        ReasonCommand,
        ShipCommand,
    )
    from schemas.orders import (
        TERMINAL_STATES,
        Approval,
        OrderState,
        OrderStatus,
        Shipment,
    )
    from schemas.workflow_io import (
        AllocateRequest,
        DetermineRequest,
        OrderInput,
        ReleaseRequest,
        ScreenRequest,
        TransitionRecord,
        WorkflowResult,
    )
    from workflows.activities import OrderActivities
    from workflows.rules import transitions as rules
    from workflows.rules.license_input import LicenseTerms, license_terms, order_draw

S = OrderState
SYSTEM = "system"

# The database may be down for a while; keep retrying rather than losing a transition.
_PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
_PERSIST_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class OrderWorkflow:
    """One export order, durable for as long as the license decision takes."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._input = inp
        self._status = OrderStatus(state=S.BOOKED)
        self._seq = 0
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: OrderInput) -> WorkflowResult:
        """Screen, determine, then wait (durably, at no cost) for people to act."""
        async with self._lock:
            await self._move(S.SCREENING, SYSTEM, "screen")
        booking = inp.booking
        parties = {"purchaser": booking.purchaser, "end_user": booking.end_user}
        screening = await workflow.execute_activity_method(
            OrderActivities.screen,
            ScreenRequest(order_id=inp.order_id, parties=parties),
            start_to_close_timeout=timedelta(seconds=60),
        )
        determination = await workflow.execute_activity_method(
            OrderActivities.determine,
            DetermineRequest(order_id=inp.order_id, booking=booking, screening=screening),
            start_to_close_timeout=timedelta(seconds=30),
        )
        async with self._lock:
            if self._effective_state() is S.SCREENING:
                self._status.screening = screening
                self._status.determination = determination
                nxt = rules.state_after_screening(determination, bool(screening.hits))
                data = {"hits": len(screening.hits), "rule": determination.rule_id}
                await self._move(nxt, SYSTEM, "screened", data=data)
        await workflow.wait_condition(lambda: self._status.state in TERMINAL_STATES)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return WorkflowResult(
            order_id=inp.order_id,
            state=self._status.state,
            determination=self._status.determination,
            license=self._status.license,
        )

    @workflow.query
    def status(self) -> OrderStatus:
        """The order's current status as the workflow sees it."""
        return self._status

    # --- manual steps -------------------------------------------------------------------

    @workflow.update
    async def clear_screening(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: the potential match is not the listed party."""
        async with self._lock:
            self._check(Action.CLEAR_SCREENING, cmd)
            screening = self._status.screening
            if screening is not None:
                screening.status = "cleared"
                screening.cleared_by = cmd.actor.user
                screening.cleared_reason = cmd.reason
            await self._act(Action.CLEAR_SCREENING, cmd, rules.state_after_clearance(), cmd.reason)
        return self._status

    @clear_screening.validator
    def _v_clear_screening(self, cmd: ReasonCommand) -> None:
        self._check(Action.CLEAR_SCREENING, cmd)

    @workflow.update
    async def approve(self, cmd: NoteCommand) -> OrderStatus:
        """Compliance: approve the order (never one's own)."""
        async with self._lock:
            self._check(Action.APPROVE, cmd)
            det = self._status.determination
            if det is None:  # cannot happen after screening; guards a corrupted history
                raise ApplicationError("order has no license determination", type="conflict")
            self._status.approvals.append(
                Approval(by=cmd.actor.user, at=workflow.now(), note=cmd.note)
            )
            await self._act(Action.APPROVE, cmd, rules.state_after_approval(det), cmd.note)
        return self._status

    @approve.validator
    def _v_approve(self, cmd: NoteCommand) -> None:
        self._check(Action.APPROVE, cmd)

    @workflow.update
    async def reject(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: reject the order."""
        async with self._lock:
            self._check(Action.REJECT, cmd)
            await self._act(Action.REJECT, cmd, S.REJECTED, cmd.reason)
        return self._status

    @reject.validator
    def _v_reject(self, cmd: ReasonCommand) -> None:
        self._check(Action.REJECT, cmd)

    @workflow.update
    async def record_license(self, cmd: LicenseCommand) -> OrderStatus:
        """Compliance: record BIS's decision; an approval draws on the license."""
        async with self._lock:
            self._check(Action.RECORD_LICENSE, cmd)
            if cmd.decision is LicenseDecision.DENIED:
                await self._act(Action.RECORD_LICENSE, cmd, S.LICENSE_DENIED, cmd.reason)
            elif cmd.decision is LicenseDecision.RETURNED:
                self._status.license_resubmissions += 1
                reason = cmd.reason or "returned without action; application resubmitted"
                data = {"decision": "returned", "resubmission": self._status.license_resubmissions}
                await self._act(Action.RECORD_LICENSE, cmd, S.AWAITING_LICENSE, reason, data)
            else:
                terms = self._license_terms(cmd)
                assert terms is not None  # the decision is "approved"
                await self._allocate(cmd, terms)
        return self._status

    @record_license.validator
    def _v_record_license(self, cmd: LicenseCommand) -> None:
        self._check(Action.RECORD_LICENSE, cmd)

    async def _allocate(self, cmd: LicenseCommand, terms: LicenseTerms) -> None:
        quantity, value = order_draw(self._input.booking)
        allocation = await workflow.execute_activity_method(
            OrderActivities.allocate_license,
            AllocateRequest(
                order_id=self._input.order_id,
                license_number=terms.number,
                approved_quantity=terms.approved_quantity,
                approved_value=terms.approved_value,
                expires_on=terms.expires_on,
                quantity=quantity,
                value=value,
                actor=cmd.actor.user,
            ),
            start_to_close_timeout=_PERSIST_TIMEOUT,
            retry_policy=_PERSIST_RETRY,
        )
        self._status.license = allocation
        data = {"decision": "approved", "license_number": allocation.license_number}
        await self._act(Action.RECORD_LICENSE, cmd, S.READY_TO_SHIP, cmd.reason, data)

    @workflow.update
    async def hold(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: stop the order where it is."""
        async with self._lock:
            self._check(Action.HOLD, cmd)
            held_from = self._status.state
            self._status.held_from = held_from
            await self._act(Action.HOLD, cmd, S.ON_HOLD, cmd.reason, {"held_from": held_from})
        return self._status

    @hold.validator
    def _v_hold(self, cmd: ReasonCommand) -> None:
        self._check(Action.HOLD, cmd)

    @workflow.update
    async def release(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: return a held order to the state it left."""
        async with self._lock:
            self._check(Action.RELEASE, cmd)
            back_to = self._status.held_from or S.BOOKED
            self._status.held_from = None
            await self._act(Action.RELEASE, cmd, back_to, cmd.reason)
        return self._status

    @release.validator
    def _v_release(self, cmd: ReasonCommand) -> None:
        self._check(Action.RELEASE, cmd)

    @workflow.update
    async def cancel(self, cmd: ReasonCommand) -> OrderStatus:
        """Sales ops: cancel before shipment; any license allocation is released."""
        async with self._lock:
            self._check(Action.CANCEL, cmd)
            if self._status.license is not None:
                await workflow.execute_activity_method(
                    OrderActivities.release_license,
                    ReleaseRequest(
                        order_id=self._input.order_id, actor=cmd.actor.user, reason=cmd.reason
                    ),
                    start_to_close_timeout=_PERSIST_TIMEOUT,
                    retry_policy=_PERSIST_RETRY,
                )
            self._status.held_from = None
            await self._act(Action.CANCEL, cmd, S.CANCELLED, cmd.reason)
        return self._status

    @cancel.validator
    def _v_cancel(self, cmd: ReasonCommand) -> None:
        self._check(Action.CANCEL, cmd)

    @workflow.update
    async def ship(self, cmd: ShipCommand) -> OrderStatus:
        """Sales ops: the goods left, under an accepted export filing."""
        async with self._lock:
            self._check(Action.SHIP, cmd)
            self._status.shipment = Shipment(
                carrier=cmd.carrier,
                tracking_number=cmd.tracking_number,
                itn=cmd.itn,
                shipped_at=workflow.now(),
                shipped_by=cmd.actor.user,
            )
            await self._act(Action.SHIP, cmd, S.SHIPPED, None, {"itn": cmd.itn})
        return self._status

    @ship.validator
    def _v_ship(self, cmd: ShipCommand) -> None:
        self._check(Action.SHIP, cmd)

    @workflow.update
    async def deliver(self, cmd: EmptyCommand) -> OrderStatus:
        """Sales ops: the goods arrived."""
        async with self._lock:
            self._check(Action.DELIVER, cmd)
            if self._status.shipment is not None:
                self._status.shipment.delivered_at = workflow.now()
            await self._act(Action.DELIVER, cmd, S.DELIVERED, None)
        return self._status

    @deliver.validator
    def _v_deliver(self, cmd: EmptyCommand) -> None:
        self._check(Action.DELIVER, cmd)

    # --- internals ----------------------------------------------------------------------

    def _effective_state(self) -> OrderState:
        held = self._status.held_from
        return held if self._status.state is S.ON_HOLD and held else self._status.state

    def _check(self, action: Action, cmd: Command) -> None:
        """Apply the pure rules; a refusal fails the update, never the workflow."""
        license = self._status.license
        facts = rules.OrderFacts(
            state=self._status.state,
            held_from=self._status.held_from,
            booked_by=self._input.booked_by,
            license_expires_on=license.expires_on if license else None,
        )
        try:
            rules.check_action(facts, action, cmd.actor, workflow.now().date())
        except rules.Refusal as refusal:
            raise ApplicationError(refusal.message, type=refusal.kind, non_retryable=True) from None
        if isinstance(cmd, LicenseCommand):
            self._license_terms(cmd)

    def _license_terms(self, cmd: LicenseCommand) -> LicenseTerms | None:
        try:
            return license_terms(cmd, workflow.now().date())
        except rules.Refusal as refusal:
            raise ApplicationError(refusal.message, type=refusal.kind, non_retryable=True) from None

    async def _act(
        self,
        action: Action,
        cmd: Command,
        to: OrderState,
        reason: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        await self._move(to, cmd.actor.user, action.value, reason, data)

    async def _move(
        self,
        to: OrderState,
        actor: str,
        action: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Change state and persist event + read model before anyone is told."""
        from_state = self._status.state
        if from_state is S.ON_HOLD and actor == SYSTEM:
            # A system step finishing while the order is held moves where it will resume.
            self._status.held_from = to
            to = S.ON_HOLD
        self._status.state = to
        self._status.waiting_for = rules.waiting_for(to)
        self._seq += 1
        record = TransitionRecord(
            order_id=self._input.order_id,
            seq=self._seq,
            at=workflow.now(),
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to,
            reason=reason,
            data=data or {},
            status=self._status,
        )
        await workflow.execute_activity_method(
            OrderActivities.record_transition,
            record,
            start_to_close_timeout=_PERSIST_TIMEOUT,
            retry_policy=_PERSIST_RETRY,
        )
