"""Shipments and deliveries, whole or in parts; part of the order workflow.

Each shipment is re-screened, checked (license draws, obligations, evidence, the license's
state), committed on its license lines and recorded with its own carrier, tracking number and
ITN. The order stays READY_TO_SHIP until every unit has left, then it is SHIPPED; it is
DELIVERED once every shipment has arrived.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, DeliverCommand, ShipCommand
    from schemas.orders import OrderState, OrderStatus
    from schemas.shipments import Shipment, ShipmentLine
    from schemas.workflow_io import CommitRequest, DrawLine
    from workflows.activities import OrderActivities
    from workflows.order_base import SYSTEM, refused
    from workflows.order_license import LicenseSteps
    from workflows.rules import shipments as shipping
    from workflows.rules import transitions as rules

S = OrderState


def _new_hit_refusal() -> ApplicationError:
    return ApplicationError(
        "ship refused: re-screening found a new potential match; the order is back in "
        "SCREENING_REVIEW",
        type=rules.RefusalKind.CONFLICT,
        non_retryable=True,
    )


class ShipmentSteps(LicenseSteps):
    """The `ship` and `deliver` updates."""

    @workflow.update
    async def ship(self, cmd: ShipCommand) -> OrderStatus:
        """Sales ops: re-screen, check, then ship (all that is left, or the lines given)."""
        async with self._lock:
            lines = self._check_ship(cmd)
            shipped_data: dict[str, object] = {"itn": cmd.itn}
            if self._input.revision >= 2:  # see WORKFLOW_REVISION
                shipped_data["rescreen"] = await self._rescreen_before_ship()
            elif await self._apply_rescreen(await self._screen(), "rescreen-before-ship"):
                raise _new_hit_refusal()
            license = self._status.license
            await self._check_shipment(lines)
            if license is not None:
                req = CommitRequest(
                    entry_key=self._key("commit"),
                    order_id=self.order_id,
                    itn=cmd.itn,
                    actor=cmd.actor.user,
                    lines=self._commit_lines(lines),
                )
                await self._persist(OrderActivities.commit_license, req)
            await self._record_shipment(cmd, lines, shipped_data)
        return self._status

    @ship.validator
    def _v_ship(self, cmd: ShipCommand) -> None:
        with self._validating(cmd):
            self._check_ship(cmd)

    def _check_ship(self, cmd: ShipCommand) -> list[ShipmentLine]:
        """The state rules, then what this shipment takes; an ITN is one shipment's."""
        self._check(Action.SHIP, cmd)
        shipments = self._status.all_shipments()
        for i, s in enumerate(shipments):
            if s.itn == cmd.itn:
                raise refused(
                    rules.Refusal(
                        rules.RefusalKind.INVALID,
                        f"itn: {cmd.itn} was filed for shipment {i}; each shipment has its own",
                    )
                )
        try:
            return shipping.shipment_lines(self._booking, shipments, cmd.lines)
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    def _commit_lines(self, lines: list[ShipmentLine]) -> list[DrawLine] | None:
        """What the shipment commits per item; None when it takes all that is left."""
        shipments = self._status.all_shipments()
        left = shipping.left(self._booking, shipments)
        if {line.sku: line.quantity for line in lines} == dict(left):
            return None
        values = shipping.shipment_values(self._booking, shipments, lines)
        return [
            DrawLine(sku=line.sku, quantity=line.quantity, value=values.get(line.sku, Decimal(0)))
            for line in lines
        ]

    async def _record_shipment(
        self, cmd: ShipCommand, lines: list[ShipmentLine], data: dict[str, object]
    ) -> None:
        shipment = Shipment(
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            itn=cmd.itn,
            shipped_at=workflow.now(),
            shipped_by=cmd.actor.user,
            lines=lines,
        )
        shipments = [*self._status.all_shipments(), shipment]
        self._status.shipments, self._status.shipment = shipments, shipment
        done = shipping.all_shipped(self._booking, shipments)
        data |= {
            "shipment": len(shipments) - 1,
            "lines": [line.model_dump(mode="json") for line in lines],
        }
        if not done:
            data["left"] = dict(shipping.left(self._booking, shipments))
        to = S.SHIPPED if done else S.READY_TO_SHIP
        await self._move(to, cmd.actor.user, Action.SHIP, None, data)

    async def _rescreen_before_ship(self) -> dict[str, object]:
        """Screen again; a new open hit moves the order to SCREENING_REVIEW and refuses ship.

        Nothing new: the result goes into the ship event's data (one event, one write).
        """
        fresh = await self._screen()
        open_ids = self._merge_rescreen(fresh)
        data: dict[str, object] = {"snapshot_id": fresh.snapshot_id, "open_hits": open_ids}
        if open_ids:
            self._status.approvals = []
            reason = "new screening hit"
            await self._move(S.SCREENING_REVIEW, SYSTEM, "rescreen-before-ship", reason, data)
            raise _new_hit_refusal()
        return data

    @workflow.update
    async def deliver(self, cmd: DeliverCommand) -> OrderStatus:
        """Sales ops: a shipment arrived (or all of them); the order is DELIVERED when all did."""
        async with self._lock:
            which = self._check_deliver(cmd)
            shipments = self._status.all_shipments()
            for i in which:
                shipments[i].delivered_at = workflow.now()
            self._status.shipments, self._status.shipment = shipments, shipments[-1]
            to = self._status.state
            if to is S.SHIPPED and not shipping.undelivered(shipments):
                to = S.DELIVERED
            await self._move(to, cmd.actor.user, Action.DELIVER, None, {"shipments": which})
        return self._status

    @deliver.validator
    def _v_deliver(self, cmd: DeliverCommand) -> None:
        with self._validating(cmd):
            self._check_deliver(cmd)

    def _check_deliver(self, cmd: DeliverCommand) -> list[int]:
        self._check(Action.DELIVER, cmd)
        try:
            return shipping.check_delivery(self._status.all_shipments(), cmd.shipment)
        except rules.Refusal as refusal:
            raise refused(refusal) from None
