"""License decisions and draws, and what must hold for shipment; part of the order workflow."""

from __future__ import annotations

import contextlib
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, LicenseCommand, LicenseDecision
    from schemas.orders import BookOrderRequest, OrderState, OrderStatus
    from schemas.shipments import ShipmentLine, SplitRef
    from schemas.workflow_io import (
        AllocateRequest,
        OrderInput,
        ShipCheckRequest,
        SplitRequest,
        SplitStart,
    )
    from workflows.activities import OrderActivities
    from workflows.ids import workflow_id_for
    from workflows.order_screening import ScreeningReview
    from workflows.rules import shipments as shipping
    from workflows.rules import split as splitting
    from workflows.rules import transitions as rules
    from workflows.rules.deadlines import due_at
    from workflows.rules.license_input import (
        LicenseTerms,
        draw_lines,
        licensed_skus,
        order_draw,
        order_parties,
    )

S = OrderState


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, type=rules.RefusalKind.CONFLICT, non_retryable=True)


class LicenseSteps(ScreeningReview):
    """`record-license`, the draw on the license, and the license checks before `ship`."""

    @workflow.update
    async def record_license(self, cmd: LicenseCommand) -> OrderStatus:
        """Compliance: record BIS's decision; an approval draws each licensed line."""
        async with self._lock:
            self._check(Action.RECORD_LICENSE, cmd)
            user, act = cmd.actor.user, Action.RECORD_LICENSE
            if cmd.decision is LicenseDecision.DENIED:
                await self._move(S.LICENSE_DENIED, user, act, cmd.reason)
            elif cmd.decision is LicenseDecision.RETURNED:
                self._status.license_resubmissions += 1
                reason = cmd.reason or "returned without action; application resubmitted"
                data = {"decision": "returned", "resubmission": self._status.license_resubmissions}
                await self._move(S.AWAITING_LICENSE, user, act, reason, data, restart_clock=True)
            else:
                terms = self._license_terms(cmd)
                assert terms is not None  # the decision is "approved"
                await self._reserve(cmd, terms)
        return self._status

    @record_license.validator
    def _v_record_license(self, cmd: LicenseCommand) -> None:
        with self._validating(cmd):
            self._check(Action.RECORD_LICENSE, cmd)
            self._check_line_terms(cmd)

    def _licensed(self) -> list[str]:
        return licensed_skus(self._booking, self._status.determination)

    def _left_booking(self) -> BookOrderRequest:
        """The order as it still has to ship: the lines less what has left."""
        lines = shipping.remaining_lines(self._booking, self._status.all_shipments())
        return self._booking.model_copy(update={"lines": lines})

    def _to_draw(self) -> list[str]:
        """Licensed items with units still to ship: these must hold a draw."""
        left = shipping.left(self._booking, self._status.all_shipments())
        return [sku for sku in self._licensed() if left[sku] > 0]

    def _drawn(self) -> bool:
        """True when the order holds a draw for every licensed item still to ship."""
        license = self._status.license
        return license is not None and license.covers(self._to_draw())

    async def _reserve(self, cmd: LicenseCommand, terms: LicenseTerms) -> None:
        """Draw each licensed item on its own line; approved short of the ask, split the order."""
        det = self._status.determination
        draws = draw_lines(self._left_booking(), det, cmd)
        short = splitting.short_terms(draws)
        kept, rest = self._booking, None
        if short:
            shipments = self._status.all_shipments()
            kept, rest = splitting.split_booking(self._booking, shipments, short)
            left = shipping.remaining_lines(kept, shipments)
            draws = draw_lines(kept.model_copy(update={"lines": left}), det, cmd)
        if self._status.license is not None:
            # Only when a new determination made another item licensed (approve sends such
            # an order back here), or a revoked license left a draw: it moves whole.
            await self._release_license(cmd.actor.user, f"redrawn on license {terms.number}")
        req = AllocateRequest(
            entry_key=self._key("reserve"),
            order_id=self.order_id,
            license_number=terms.number,
            expires_on=terms.expires_on,
            destination=kept.consignee().country,
            parties=order_parties(kept),
            lines=draws,
            actor=cmd.actor.user,
        )
        self._status.license = await self._persist(OrderActivities.allocate_license, req)
        data: dict[str, Any] = {"decision": "approved", "license_number": terms.number}
        if rest is not None:
            asked = shipping.ordered(self._booking)
            data |= await self._split_off(cmd, rest)
            data |= {"asked": dict(asked), "kept": [x.model_dump(mode="json") for x in kept.lines]}
        self._booking = kept
        user, act = cmd.actor.user, Action.RECORD_LICENSE
        booking = kept if rest is not None else None
        await self._move(S.READY_TO_SHIP, user, act, cmd.reason, data, booking=booking)

    def _child_status(self, rest: BookOrderRequest) -> OrderStatus:
        """The remainder's status: screened, determined and approved as the original was."""
        status = self._status.model_copy(deep=True)
        status.state, status.held_from = S.AWAITING_LICENSE, None
        status.waiting_for = rules.waiting_for(S.AWAITING_LICENSE)
        status.determination = splitting.split_determination(self._determination(), rest)
        status.license, status.application, status.license_resubmissions = None, None, 0
        status.shipment, status.shipments, status.split_into = None, [], []
        status.split_from = SplitRef(order_id=self.order_id, seq=self._seq + 1)
        threshold = self._input.policy.four_eyes_threshold
        status.approvals_needed = rules.approvals_needed(order_draw(rest)[1], threshold)
        status.due_at = due_at(S.AWAITING_LICENSE, workflow.now(), self._input.policy)
        status.overdue, status.license_hold = False, None
        return status

    async def _split_off(self, cmd: LicenseCommand, rest: BookOrderRequest) -> dict[str, Any]:
        """Book the remainder as an order of its own and start its workflow."""
        child = splitting.split_order_id(self.order_id, len(self._status.split_into) + 1)
        status = self._child_status(rest)
        req = SplitRequest(
            order_id=child,
            split_from=self.order_id,
            parent_seq=self._seq + 1,
            booking=rest,
            created_by=self._input.booked_by,
            status=status,
            actor=cmd.actor.user,
            reason=cmd.reason,
            at=workflow.now(),
        )
        await self._persist(OrderActivities.book_split, req)
        child_input = OrderInput(
            order_id=child,
            booked_by=self._input.booked_by,
            booked_at=workflow.now(),
            booking=rest,
            policy=self._input.policy,
            revision=self._input.revision,
            split=SplitStart(status=status),
        )
        # Its own workflow, which outlives this one: an order may ship long before the
        # remainder's license comes (or never does). Started already is what we wanted.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                "OrderWorkflow",
                child_input,
                id=workflow_id_for(child),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        self._status.split_into.append(child)
        lines = [line.model_dump(mode="json") for line in rest.lines]
        return {"split_into": child, "remainder": lines}

    async def _check_shipment(self, lines: list[ShipmentLine]) -> None:
        """Refuse `ship` while a licensed line has no draw, a blocking obligation or a piece of
        evidence is missing, or the license is suspended or revoked."""
        license = self._status.license
        taking = {line.sku for line in lines}
        shipments = self._status.all_shipments()
        check = await self._lookup(
            OrderActivities.ship_check,
            ShipCheckRequest(
                order_id=self.order_id,
                license_number=license.license_number if license else None,
                licensed_skus=[sku for sku in self._licensed() if sku in taking],
                evidence=self._determination().evidence(),
                last_shipped_at=shipments[-1].shipped_at if shipments else None,
            ),
        )
        if check.undrawn:
            skus = [line.sku for line in self._booking.lines]
            named = [f"line {skus.index(sku) + 1} ({sku})" for sku in check.undrawn]
            verb = "has" if len(named) == 1 else "have"
            raise _conflict(
                f"ship refused: licensed {', '.join(named)} {verb} no license draw; "
                "record the license decision first"
            )
        if check.blocking:
            raise _conflict("ship refused: " + "; ".join(check.blocking))
