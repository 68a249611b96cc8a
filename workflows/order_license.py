"""License decisions and draws, and what must hold for shipment; part of the order workflow."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, LicenseCommand, LicenseDecision
    from schemas.orders import OrderState, OrderStatus
    from schemas.workflow_io import AllocateRequest, ShipCheckRequest
    from workflows.activities import OrderActivities
    from workflows.order_base import lookup, persist
    from workflows.order_screening import ScreeningReview
    from workflows.rules import transitions as rules
    from workflows.rules.license_input import (
        LicenseTerms,
        draw_lines,
        licensed_skus,
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
        self._check(Action.RECORD_LICENSE, cmd)
        self._check_line_terms(cmd)

    def _licensed(self) -> list[str]:
        return licensed_skus(self._booking, self._status.determination)

    def _drawn(self) -> bool:
        """True when the order holds a draw for every licensed item."""
        license = self._status.license
        return license is not None and license.covers(self._licensed())

    async def _reserve(self, cmd: LicenseCommand, terms: LicenseTerms) -> None:
        """Draw each licensed item on its own line of the license."""
        booking = self._booking
        if self._status.license is not None:
            # Only when a new determination made another item licensed (approve sends such
            # an order back here): the order's draw moves whole to this license.
            await self._release_license(cmd.actor.user, f"redrawn on license {terms.number}")
        req = AllocateRequest(
            entry_key=self._key("reserve"),
            order_id=self.order_id,
            license_number=terms.number,
            expires_on=terms.expires_on,
            destination=booking.consignee().country,
            parties=order_parties(booking),
            lines=draw_lines(booking, self._status.determination, cmd),
            actor=cmd.actor.user,
        )
        self._status.license = await persist(OrderActivities.allocate_license, req)
        data = {"decision": "approved", "license_number": terms.number}
        await self._move(S.READY_TO_SHIP, cmd.actor.user, Action.RECORD_LICENSE, cmd.reason, data)

    async def _check_shipment(self) -> None:
        """Refuse `ship` while a licensed line has no draw or a blocking obligation is open."""
        license = self._status.license
        check = await lookup(
            OrderActivities.ship_check,
            ShipCheckRequest(
                order_id=self.order_id,
                license_number=license.license_number if license else None,
                licensed_skus=self._licensed(),
                evidence=self._determination().evidence(),
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
