"""Screening review: clearing, disposing of and escalating potential matches."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, DispositionCommand, ReasonCommand
    from schemas.orders import (
        Disposition,
        HitDecision,
        OrderState,
        OrderStatus,
        ScreeningStatus,
    )
    from schemas.workflow_io import WhitelistRequest
    from workflows.activities import OrderActivities
    from workflows.order_base import OrderMachine
    from workflows.rules import transitions as rules

S = OrderState


class ScreeningReview(OrderMachine):
    """The updates of SCREENING_REVIEW; part of the order workflow."""

    @workflow.update
    async def clear_screening(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: every open potential match is not the listed party."""
        async with self._lock:
            self._check(Action.CLEAR_SCREENING, cmd)
            screening = self._screening()
            for hit in screening.open_hits():
                screening.dispositions[hit.entry_id] = Disposition(
                    entry_id=hit.entry_id,
                    decision=HitDecision.NOT_A_MATCH,
                    by=cmd.actor.user,
                    at=workflow.now(),
                    reason=cmd.reason,
                )
            screening.status, screening.cleared_by = ScreeningStatus.CLEARED, cmd.actor.user
            screening.cleared_reason = cmd.reason
            self._status.approvals = []
            await self._move(
                rules.state_after_clearance(), cmd.actor.user, Action.CLEAR_SCREENING, cmd.reason
            )
        return self._status

    @clear_screening.validator
    def _v_clear_screening(self, cmd: ReasonCommand) -> None:
        with self._validating(cmd):
            self._check(Action.CLEAR_SCREENING, cmd)

    @workflow.update
    async def disposition(self, cmd: DispositionCommand) -> OrderStatus:
        """Compliance: not a match (optionally whitelisted), verified match, or escalate."""
        async with self._lock:
            self._check_disposition(cmd)
            screening = self._screening()
            hit = next(h for h in screening.hits if h.entry_id == cmd.entry_id)
            until = cmd.whitelist_until if cmd.decision is HitDecision.NOT_A_MATCH else None
            if until is not None:
                req = WhitelistRequest(
                    order_id=self.order_id,
                    party_name=hit.party_name,
                    entry_id=hit.entry_id,
                    until=until,
                    reason=cmd.reason,
                    actor=cmd.actor.user,
                )
                await self._persist(OrderActivities.whitelist, req)
            screening.dispositions[cmd.entry_id] = Disposition(
                entry_id=cmd.entry_id,
                decision=cmd.decision,
                by=cmd.actor.user,
                at=workflow.now(),
                reason=cmd.reason,
                whitelisted_until=until,
            )
            data = {"entry_id": cmd.entry_id, "decision": cmd.decision.value}
            await self._move(
                self._after_disposition(cmd.decision),
                cmd.actor.user,
                Action.DISPOSITION,
                cmd.reason,
                data,
            )
        return self._status

    def _after_disposition(self, decision: HitDecision) -> OrderState:
        screening = self._screening()
        if decision is HitDecision.VERIFIED_MATCH:
            screening.status = ScreeningStatus.VERIFIED_MATCH
            return S.REJECTED
        if decision is HitDecision.ESCALATED:
            screening.status = ScreeningStatus.ESCALATED
            return S.SCREENING_REVIEW
        if screening.open_hits():
            return S.SCREENING_REVIEW
        screening.status = ScreeningStatus.CLEARED
        self._status.approvals = []
        return rules.state_after_clearance()

    @disposition.validator
    def _v_disposition(self, cmd: DispositionCommand) -> None:
        with self._validating(cmd):
            self._check_disposition(cmd)

    def _check_disposition(self, cmd: DispositionCommand) -> None:
        self._check(Action.DISPOSITION, cmd)
        if not any(h.entry_id == cmd.entry_id for h in self._screening().hits):
            raise ApplicationError(
                f"entry_id: no potential match on list entry {cmd.entry_id}",
                type=rules.RefusalKind.INVALID,
                non_retryable=True,
            )
        if self._is_decided(cmd.entry_id):
            raise ApplicationError(
                f"entry {cmd.entry_id} is already found not to be a match",
                type=rules.RefusalKind.CONFLICT,
                non_retryable=True,
            )
