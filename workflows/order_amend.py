"""Amendments: an order that changes keeps its history; part of the order workflow."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, AmendCommand
    from schemas.orders import BookOrderRequest, OrderState, OrderStatus
    from schemas.workflow_io import AllocateRequest
    from workflows.activities import OrderActivities
    from workflows.order_base import OrderMachine, refused
    from workflows.rules import amend as amending
    from workflows.rules import shipments as shipping
    from workflows.rules import transitions as rules
    from workflows.rules.license_input import draw_lines, order_draw, order_parties

S = OrderState


class Amendments(OrderMachine):
    """The `amend` update: change lines, parties, date or end use of an order not yet shipped."""

    @workflow.update
    async def amend(self, cmd: AmendCommand) -> OrderStatus:
        """Sales ops: change the order; a material change goes back through compliance."""
        async with self._lock:
            before, after = self._booking, self._check_amend(cmd)
            material = amending.material_changes(before, after)
            data: dict[str, Any] = {"diff": amending.diff(before, after), "material": material}
            self._booking = after
            total = order_draw(after)[1]
            threshold = self._input.policy.four_eyes_threshold
            self._status.approvals_needed = rules.approvals_needed(total, threshold)
            if self._status.license is not None and self._must_redraw(before, after):
                data["license"] = await self._redraw(cmd.actor.user, cmd.reason)
            to = self._status.state
            shipments = self._status.all_shipments()
            if shipping.all_shipped(after, shipments):
                to = S.SHIPPED  # cut to what has left: nothing more will ship
            elif material:
                to = await self._review_again(before, after, data)
            elif to is S.READY_TO_SHIP and self._status.license is None and data.get("license"):
                to = S.AWAITING_LICENSE  # the license no longer covers what the order asks
            await self._move(to, cmd.actor.user, Action.AMEND, cmd.reason, data, booking=after)
        return self._status

    @staticmethod
    def _must_redraw(before: BookOrderRequest, after: BookOrderRequest) -> bool:
        """New lines, or new parties: the license must be asked again whether it covers them
        (it names its consignee and end user; a draw kept for other parties would let the
        order ship to someone the license does not name)."""
        if before.lines != after.lines:
            return True
        # Marked in the history only when it decides: histories before it replay as they ran.
        return bool(amending.changed_parties(before, after)) and workflow.patched(
            "amend-redraws-on-new-parties"
        )

    @amend.validator
    def _v_amend(self, cmd: AmendCommand) -> None:
        with self._validating(cmd):
            self._check_amend(cmd)

    def _check_amend(self, cmd: AmendCommand) -> BookOrderRequest:
        self._check(Action.AMEND, cmd)
        try:
            after = amending.amended(self._booking, cmd)
            shipping.check_keeps_shipped(after, self._status.all_shipments())
        except rules.Refusal as refusal:
            raise refused(refusal) from None
        return after

    async def _review_again(
        self, before: BookOrderRequest, after: BookOrderRequest, data: dict[str, Any]
    ) -> OrderState:
        """Screen every party again, re-determine, void approvals; where the order goes next."""
        data["rescreened"] = amending.changed_parties(before, after)
        fresh = await self._screen()
        open_ids = self._merge_rescreen(fresh)
        det = await self._determine(self._screening())
        old = self._status.determination
        self._status.determination = det
        self._status.approvals = []
        data["rule"] = {"from": old.rule_id if old else None, "to": det.rule_id}
        data["open_hits"] = open_ids
        return S.SCREENING_REVIEW if open_ids else S.COMPLIANCE_REVIEW

    async def _redraw(self, actor: str, reason: str) -> dict[str, Any]:
        """Give back the draw and take what the amended lines need from the same license.

        A decrease so releases the difference; an increase that no longer fits leaves the order
        without a draw (it waits for a license decision again).
        """
        held = self._status.license
        assert held is not None
        await self._release_license(actor, f"amended: {reason}", "amend-release")
        left = shipping.remaining_lines(self._booking, self._status.all_shipments())
        lines = draw_lines(
            self._booking.model_copy(update={"lines": left}), self._status.determination
        )
        quantity = sum(line.quantity for line in lines)
        if not lines:  # every licensed unit has shipped: the draw stays as it shipped
            self._status.license = held
            return {"number": held.license_number, "redrawn": False, "why": "all shipped"}
        req = AllocateRequest(
            entry_key=self._key("amend-reserve"),
            order_id=self.order_id,
            license_number=held.license_number,
            destination=self._booking.consignee().country,
            parties=order_parties(self._booking),
            lines=lines,
            actor=actor,
        )
        try:
            self._status.license = await self._persist(OrderActivities.allocate_license, req)
        except (ActivityError, ApplicationError) as exc:  # a local activity's error is bare
            cause = exc.cause if isinstance(exc, ActivityError) else exc
            why = cause.message if isinstance(cause, ApplicationError) else str(exc)
            return {"number": held.license_number, "redrawn": False, "why": why}
        return {"number": held.license_number, "redrawn": True, "quantity": quantity}
