"""The order workflow's state and the steps every handler shares: check, move, persist.

Kept apart from the handlers (`workflows/order.py`) so each file stays readable; nothing here
does IO except through activities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, Command, LicenseCommand, LicenseDecision
    from schemas.orders import (
        BookOrderRequest,
        Determination,
        HitDecision,
        OrderState,
        OrderStatus,
        ScreeningResult,
        screening_status,
    )
    from schemas.workflow_io import (
        DetermineRequest,
        OrderInput,
        ReleaseRequest,
        ScreenRequest,
        TransitionRecord,
    )
    from workflows.activities import OrderActivities
    from workflows.rules import shipments as shipping
    from workflows.rules import transitions as rules
    from workflows.rules.deadlines import due_at, license_deadline
    from workflows.rules.license_input import (
        LicenseTerms,
        check_line_terms,
        license_terms,
        licensed_skus,
        order_draw,
    )

S = OrderState
SYSTEM = "system"
# The refusal type of an action that arrives while another step of the order is being made.
BUSY = "busy"

A = TypeVar("A")
R = TypeVar("R")

_TIMEOUT = timedelta(seconds=15)
# The database may be down for a while; keep retrying rather than losing a transition.
_PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


def refused(refusal: rules.Refusal) -> ApplicationError:
    """A refusal fails the update (never the workflow); its type maps to an HTTP status."""
    return ApplicationError(refusal.message, type=refusal.kind, non_retryable=True)


class OrderMachine:
    """State of one order and the primitives its handlers are built from."""

    _input: OrderInput
    _status: OrderStatus

    def _setup(self, inp: OrderInput) -> None:
        self._input = inp
        self._booking = inp.booking  # as amended since; the input stays as booked
        total = order_draw(inp.booking)[1]
        needed = rules.approvals_needed(total, inp.policy.four_eyes_threshold)
        self._status = OrderStatus(state=S.BOOKED, approvals_needed=needed)
        if inp.split is not None:  # booked (at seq 0) by the original's workflow
            self._status = inp.split.status.model_copy(deep=True)
        self._seq = 0
        self._changes = 0
        self._lock = asyncio.Lock()
        # Updates whose acceptance is in the history (a remote activity of theirs completed).
        self._recorded: set[str] = set()

    async def _persist(self, method: Callable[[OrderActivities, A], R], arg: A) -> R:
        """A writing activity, retried until the database takes it; local from revision 4.

        Local: it runs in the step's workflow task, without a task of its own. Every write is
        idempotent by its key, so a step re-run after a worker died writes nothing twice. Not
        the first write of an update handler, though: an update is recorded only when the
        workflow task that accepted it completes, and one lost before that (a server restart)
        would leave its local writes behind with no step in the history that made them. Once
        a remote activity of the handler has completed, its acceptance is recorded.
        """
        update = workflow.current_update_info()
        if self._input.revision >= 4 and (update is None or update.id in self._recorded):
            return await workflow.execute_local_activity_method(
                method, arg, start_to_close_timeout=_TIMEOUT, retry_policy=_PERSIST_RETRY
            )
        result = await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=_TIMEOUT, retry_policy=_PERSIST_RETRY
        )
        self._note_recorded()
        return result

    async def _lookup(self, method: Callable[[OrderActivities, A], R], arg: A) -> R:
        """A reading activity (screening, determination, checks): always remote.

        Temporal records its result: a step re-run after a worker died mid-step replays what
        it read, instead of reading again what its own writes changed (a shipment's check
        would no longer find the draw its commit took).
        """
        # Short: these take milliseconds, and one lost with a killed worker is retried sooner.
        result = await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=_TIMEOUT
        )
        self._note_recorded()
        return result

    def _note_recorded(self) -> None:
        """A remote activity completed: the update running it is in the history now."""
        update = workflow.current_update_info()
        if update is not None:
            self._recorded.add(update.id)

    @property
    def order_id(self) -> str:
        """The order this workflow runs."""
        return self._input.order_id

    def _key(self, kind: str) -> str:
        # Deterministic: the same replay produces the same ledger key, so a retry is a no-op.
        return f"{self.order_id}:{kind}:{self._seq + 1}"

    def _effective_state(self) -> OrderState:
        held = self._status.held_from
        return held if self._status.state is S.ON_HOLD and held else self._status.state

    def _facts(self) -> rules.OrderFacts:
        return rules.OrderFacts.of(self._status, self._input.booked_by)

    @contextmanager
    def _validating(self, cmd: Command) -> Iterator[None]:
        """A validator's refusal while the workflow and the read model disagree is "busy".

        They disagree in two ways. A step changes the workflow's state before its activity has
        written the read model (a step in progress holds the lock): an action resent because
        its first answer was lost would be refused naming a state nobody can see yet. And a
        worker that died after a step's local activities wrote, but before Temporal recorded
        them, leaves the next worker re-running that step from an older state than the read
        model's (`cmd.read_seq` is ahead of the workflow). Refused as busy, the action is tried
        again once they agree, and gets the answer the read model shows. Validators never run
        on replay, so histories are unaffected.
        """
        try:
            yield
        except ApplicationError as refusal:
            behind = cmd.read_seq is not None and self._seq < cmd.read_seq
            if not (self._lock.locked() or behind):
                raise
            raise ApplicationError(
                "another step of this order is being recorded; try again in a moment",
                type=BUSY,
                non_retryable=True,
            ) from refusal

    def _check(self, action: Action, cmd: Command) -> None:
        """Apply the pure rules; raises a refusal the API turns into 403/409/422."""
        try:
            rules.check_action(self._facts(), action, cmd.actor, workflow.now().date())
        except rules.Refusal as refusal:
            raise refused(refusal) from None
        if isinstance(cmd, LicenseCommand):
            self._license_terms(cmd)

    def _license_terms(self, cmd: LicenseCommand) -> LicenseTerms | None:
        try:
            return license_terms(cmd, workflow.now().date())
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    def _check_line_terms(self, cmd: LicenseCommand) -> None:
        """Validator only: refuse terms that would pool items or miss a licensed line."""
        if cmd.decision is not LicenseDecision.APPROVED:
            return
        licensed = licensed_skus(self._booking, self._status.determination)
        left = shipping.left(self._booking, self._status.all_shipments())
        licensed = [sku for sku in licensed if left[sku] > 0]  # all shipped: nothing to draw
        try:
            check_line_terms(cmd, licensed)
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    def _screening(self) -> ScreeningResult:
        screening = self._status.screening
        if screening is None:  # handlers that need it are only allowed after screening
            raise ApplicationError("the order has not been screened yet", type="conflict")
        return screening

    def _determination(self) -> Determination:
        det = self._status.determination
        if det is None:
            raise ApplicationError("the order has no license determination", type="conflict")
        return det

    async def _screen(self) -> ScreeningResult:
        parties = self._booking.parties()
        return await self._lookup(
            OrderActivities.screen, ScreenRequest(order_id=self.order_id, parties=parties)
        )

    async def _determine(self, screening: ScreeningResult) -> Determination:
        req = DetermineRequest(
            order_id=self.order_id,
            booking=self._booking,
            screening=screening,
            on=workflow.now().date(),
        )
        return await self._lookup(OrderActivities.determine, req)

    async def _release_license(self, actor: str, reason: str, kind: str = "release") -> None:
        if self._status.license is None:
            return
        req = ReleaseRequest(
            entry_key=self._key(kind), order_id=self.order_id, actor=actor, reason=reason
        )
        await self._persist(OrderActivities.release_license, req)
        self._status.license = None

    def _merge_rescreen(self, fresh: ScreeningResult) -> list[str]:
        """Adopt a new screening, keeping dispositions; returns entry ids of open hits."""
        old = self._status.screening
        if old is not None:
            fresh.dispositions = old.dispositions
        self._status.screening = fresh
        open_hits = fresh.open_hits()
        fresh.status = screening_status(has_hits=bool(fresh.hits), open_hits=bool(open_hits))
        return [h.entry_id for h in open_hits]

    async def _apply_rescreen(self, fresh: ScreeningResult, action: str) -> bool:
        """Record a re-screening; a new open hit sends the order back to SCREENING_REVIEW."""
        open_ids = self._merge_rescreen(fresh)
        data = {"snapshot_id": fresh.snapshot_id, "open_hits": open_ids}
        if open_ids and self._effective_state() is not S.SCREENING_REVIEW:
            self._status.approvals = []
            await self._move(S.SCREENING_REVIEW, SYSTEM, action, "new screening hit", data)
            return True
        await self._move(self._status.state, SYSTEM, action, None, data)
        return False

    def _is_decided(self, entry_id: str) -> bool:
        d = self._screening().dispositions.get(entry_id)
        return d is not None and d.decision is HitDecision.NOT_A_MATCH

    # --- deadlines --------------------------------------------------------------------

    def _license_lapses_at(self) -> datetime | None:
        license = self._status.license
        if license is None or self._effective_state() is not S.READY_TO_SHIP:
            return None
        return license_deadline(license.expires_on, workflow.now())

    def _next_deadline(self) -> datetime | None:
        candidates = [self._license_lapses_at()]
        if not self._status.overdue:
            candidates.append(self._status.due_at)
        times = [t for t in candidates if t is not None]
        return min(times) if times else None

    async def _on_deadline(self) -> None:
        """A timer fired: an expired license goes back to waiting; a late step escalates."""
        now = workflow.now()
        lapses = self._license_lapses_at()
        if lapses is not None and lapses <= now:
            assert self._status.license is not None
            expired = self._status.license.expires_on.isoformat()
            await self._release_license(SYSTEM, f"license expired on {expired}", "expired")
            await self._move(
                S.AWAITING_LICENSE, SYSTEM, "license-expired", f"license expired on {expired}"
            )
            return
        due = self._status.due_at
        if due is not None and due <= now and not self._status.overdue:
            self._status.overdue = True
            await self._move(
                self._status.state,
                SYSTEM,
                "escalate",
                f"{self._status.state} overdue since {due.isoformat()}",
            )

    # --- persistence ------------------------------------------------------------------

    async def _move(
        self,
        to: OrderState,
        actor: str,
        action: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        *,
        restart_clock: bool = False,
        resume: bool = False,
        booking: BookOrderRequest | None = None,
    ) -> None:
        """Change state and persist event + read model before anyone is told.

        `resume`: a system step that ends a hold itself (an import stop lifted).
        """
        from_state = self._status.state
        if from_state is S.ON_HOLD and actor == SYSTEM and to is not S.ON_HOLD and not resume:
            # A system step finishing while the order is held moves where it will resume.
            self._status.held_from = to
            to = S.ON_HOLD
        if to is not from_state or restart_clock:
            self._status.due_at = due_at(to, workflow.now(), self._input.policy)
            self._status.overdue = False
        self._status.state = to
        self._status.waiting_for = rules.waiting_for(to)
        self._seq += 1
        self._changes += 1
        record = TransitionRecord(
            order_id=self.order_id,
            seq=self._seq,
            at=workflow.now(),
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to,
            reason=reason,
            data=data or {},
            status=self._status,
            booking=booking,
        )
        await self._persist(OrderActivities.record_transition, record)
