"""The order workflow: one per order, from booking to a terminal state.

It is thin on purpose: the rules live in `workflows.rules`, the IO in activities, the shared
primitives in `workflows.order_base`. Every manual step is an update whose validator refuses
invalid requests before they reach history; the handler re-checks under a lock, because two
updates may have passed validation at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.actions import (
        Action,
        NoteCommand,
        ReasonCommand,
    )
    from schemas.common import Role
    from schemas.orders import (
        TERMINAL_STATES,
        Approval,
        OrderState,
        OrderStatus,
    )
    from schemas.workflow_io import (
        OrderInput,
        RecheckRequest,
        RolesRequest,
        WorkflowResult,
    )
    from workflows.activities import OrderActivities
    from workflows.order_amend import Amendments
    from workflows.order_application import ApplicationSteps
    from workflows.order_base import SYSTEM, refused
    from workflows.order_license_events import LicenseEvents
    from workflows.order_policy import PolicyChanges
    from workflows.order_ship import ShipmentSteps
    from workflows.rules import transitions as rules
    from workflows.rules.decision import apply_decision, check_decision

S = OrderState


@workflow.defn
class OrderWorkflow(ShipmentSteps, ApplicationSteps, Amendments, LicenseEvents, PolicyChanges):
    """One export order, durable for as long as the license decision takes."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._setup(inp)
        self._setup_policy()
        self._recheck: RecheckRequest | None = None

    @workflow.run
    async def run(self, inp: OrderInput) -> WorkflowResult:
        """Screen, determine, then wait (durably, at no cost) for people, timers and lists."""
        if inp.split is None:  # the remainder of a split starts where the original was
            await self._screen_and_determine()
        await self._serve_until_terminal()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return WorkflowResult(
            order_id=inp.order_id,
            state=self._status.state,
            determination=self._status.determination,
            license=self._status.license,
        )

    async def _screen_and_determine(self) -> None:
        async with self._lock:
            await self._move(S.SCREENING, SYSTEM, "screen")
        screening = await self._screen()
        determination = await self._determine(screening)
        async with self._lock:
            if self._effective_state() is S.SCREENING:
                self._status.determination = determination
                open_ids = self._merge_rescreen(screening)
                nxt = rules.state_after_screening(determination, bool(open_ids))
                data = {"hits": len(screening.hits), "rule": determination.rule_id}
                await self._move(nxt, SYSTEM, "screened", data=data)
                if self._input.revision >= 3:  # see WORKFLOW_REVISION
                    await self._hold_for_import_stop()

    async def _serve_until_terminal(self) -> None:
        if self._input.revision < 2:
            await self._serve_until_terminal_v1()
            return
        # One deadline timer at a time, replaced only when a deadline comes *earlier*: a later
        # one is picked up when the running timer fires. Most steps then start no timer and
        # cancel none (revision 2; a timer per state change before).
        timer: asyncio.Task[None] | None = None
        timer_at: datetime | None = None
        while self._status.state not in TERMINAL_STATES:
            deadline = self._next_deadline()
            running = timer is not None and not timer.done()
            if deadline is not None and (not running or (timer_at and deadline < timer_at)):
                if timer is not None:
                    timer.cancel()
                wait = max((deadline - workflow.now()).total_seconds(), 1.0)
                timer, timer_at = asyncio.create_task(workflow.sleep(wait)), deadline
            await workflow.wait_condition(self._woken_or_fired(self._changes, timer))
            if timer is not None and timer.done():
                timer, timer_at = None, None
                async with self._lock:
                    await self._on_deadline()  # does nothing if the deadline moved later
                continue
            await self._take_recheck()
        if timer is not None and not timer.done():
            timer.cancel()

    async def _serve_until_terminal_v1(self) -> None:
        while self._status.state not in TERMINAL_STATES:
            deadline = self._next_deadline()
            timeout = None
            if deadline is not None:
                timeout = max((deadline - workflow.now()).total_seconds(), 1.0)
            try:
                await workflow.wait_condition(self._woken(self._changes), timeout=timeout)
            except TimeoutError:
                async with self._lock:
                    await self._on_deadline()
                continue
            await self._take_recheck()

    async def _take_recheck(self) -> None:
        if self._recheck is not None:
            req, self._recheck = self._recheck, None
            async with self._lock:
                await self._do_recheck(req)
        await self._take_policy_changes()

    def _woken_or_fired(self, seen: int, timer: asyncio.Task[None] | None) -> Callable[[], bool]:
        woken = self._woken(seen)
        return lambda: woken() or (timer is not None and timer.done())

    def _woken(self, seen: int) -> Callable[[], bool]:
        """True once something changed the order, or a recheck or policy change arrived."""
        return lambda: self._changes != seen or self._recheck is not None or self._policy_pending()

    @workflow.signal
    def recheck(self, req: RecheckRequest) -> None:
        """A new list snapshot or rule set is in force; the run loop acts on it."""
        self._recheck = req

    async def _do_recheck(self, req: RecheckRequest) -> None:
        state = self._effective_state()
        if state in TERMINAL_STATES or state in (S.BOOKED, S.SCREENING, S.SHIPPED):
            return
        screening = self._screening()
        if req.snapshot_id != screening.snapshot_id:
            await self._apply_rescreen(await self._screen(), "rescreen")
        det = self._determination()
        # Rule sets now reach orders through `redetermine` (activation fans out); a recheck
        # naming a version comes from a sweep of before that.
        if req.ruleset_version is None or req.ruleset_version == det.ruleset_version:
            return
        fresh = await self._determine(self._screening())
        self._status.determination = fresh
        data = {"from": det.rule_id, "to": fresh.rule_id, "ruleset": fresh.ruleset_version}
        material = (fresh.license_required, fresh.policy) != (det.license_required, det.policy)
        # A drawn order with an item newly licensed needs a draw for it too: back to review.
        # (Draws from before license lines cover every item, so older orders never take this.)
        material = material or (self._status.license is not None and not self._drawn())
        if material and self._effective_state() not in (S.SCREENING_REVIEW, S.COMPLIANCE_REVIEW):
            self._status.approvals = []
            reason = f"rule set {fresh.ruleset_version}: {det.rule_id} -> {fresh.rule_id}"
            await self._move(S.COMPLIANCE_REVIEW, SYSTEM, "redetermine", reason, data)
        else:
            await self._move(self._status.state, SYSTEM, "redetermine", None, data)

    @workflow.query
    def status(self) -> OrderStatus:
        """The order's current status as the workflow sees it."""
        return self._status

    # --- compliance review -----------------------------------------------------------

    @workflow.update
    async def approve(self, cmd: NoteCommand) -> OrderStatus:
        """Compliance: approve (never one's own order; two officers above the threshold)."""
        async with self._lock:
            self._check(Action.APPROVE, cmd)
            self._decide_undecided(cmd)
            self._status.approvals.append(
                Approval(by=cmd.actor.user, at=workflow.now(), note=cmd.note)
            )
            withdrawn = await self._drop_revoked_approvals()
            approvals, needed = self._status.approvals, self._status.approvals_needed
            data = {"approvals": len(approvals), "needed": needed, "withdrawn": withdrawn}
            to = S.COMPLIANCE_REVIEW
            if len(approvals) >= needed:
                to = rules.state_after_approval(self._determination(), license_held=self._drawn())
            await self._move(to, cmd.actor.user, Action.APPROVE, cmd.note, data)
        return self._status

    async def _drop_revoked_approvals(self) -> list[str]:
        """With four eyes, an earlier approver whose role was revoked no longer counts."""
        approvals = self._status.approvals
        if len(approvals) < 2:
            return []
        roles = await self._lookup(
            OrderActivities.roles_of, RolesRequest(users=[a.by for a in approvals])
        )
        revoked = [a.by for a in approvals if Role.COMPLIANCE not in roles.get(a.by, [])]
        self._status.approvals = [a for a in approvals if a.by not in revoked]
        return revoked

    @approve.validator
    def _v_approve(self, cmd: NoteCommand) -> None:
        with self._validating(cmd):
            self._check(Action.APPROVE, cmd)
            self._check_decision(cmd)

    def _check_decision(self, cmd: NoteCommand) -> None:
        try:
            check_decision(self._status.determination, cmd.license_required)
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    def _decide_undecided(self, cmd: NoteCommand) -> None:
        """Lines no rule decides take the officer's determination (checked in the validator)."""
        self._check_decision(cmd)
        det = self._status.determination
        if det is not None:
            self._status.determination = apply_decision(det, cmd.license_required, cmd.actor.user)

    @workflow.update
    async def reject(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: reject the order."""
        async with self._lock:
            self._check(Action.REJECT, cmd)
            await self._release_license(cmd.actor.user, cmd.reason)
            await self._move(S.REJECTED, cmd.actor.user, Action.REJECT, cmd.reason)
        return self._status

    @reject.validator
    def _v_reject(self, cmd: ReasonCommand) -> None:
        with self._validating(cmd):
            self._check(Action.REJECT, cmd)

    # --- holds, cancellation, shipment -----------------------------------------------

    @workflow.update
    async def hold(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: stop the order where it is (its clock stops too)."""
        async with self._lock:
            self._check(Action.HOLD, cmd)
            held_from = self._status.state
            self._status.held_from = held_from
            await self._move(
                S.ON_HOLD, cmd.actor.user, Action.HOLD, cmd.reason, {"held_from": held_from}
            )
        return self._status

    @hold.validator
    def _v_hold(self, cmd: ReasonCommand) -> None:
        with self._validating(cmd):
            self._check(Action.HOLD, cmd)

    @workflow.update
    async def release(self, cmd: ReasonCommand) -> OrderStatus:
        """Compliance: return a held order to the state it left."""
        async with self._lock:
            self._check(Action.RELEASE, cmd)
            back_to = self._status.held_from or S.BOOKED
            self._status.held_from = None
            self._status.held_for_import_stop = False
            await self._move(back_to, cmd.actor.user, Action.RELEASE, cmd.reason)
        return self._status

    @release.validator
    def _v_release(self, cmd: ReasonCommand) -> None:
        with self._validating(cmd):
            self._check(Action.RELEASE, cmd)

    @workflow.update
    async def cancel(self, cmd: ReasonCommand) -> OrderStatus:
        """Sales ops: cancel before shipment; the license reservation is released."""
        async with self._lock:
            self._check(Action.CANCEL, cmd)
            await self._release_license(cmd.actor.user, cmd.reason)
            self._status.held_from = None
            self._status.held_for_import_stop = False
            await self._move(S.CANCELLED, cmd.actor.user, Action.CANCEL, cmd.reason)
        return self._status

    @cancel.validator
    def _v_cancel(self, cmd: ReasonCommand) -> None:
        with self._validating(cmd):
            self._check(Action.CANCEL, cmd)
