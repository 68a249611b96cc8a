"""A license suspended, reinstated or revoked: what it does to one order drawing on it.

The license's fan-out workflow sends each affected order one update (its id names the action
and the order, so a batch retried after a crash gets the first answer back, not a second
change). An order decides for itself whether the event still concerns it: it may have
shipped, been cancelled or moved to another license since the batch was selected.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.license_actions import (
        LicenseActionKind,
        LicenseEvent,
        LicenseEventOutcome,
        Outcome,
    )
    from schemas.orders import TERMINAL_STATES, OrderState
    from workflows.order_base import OrderMachine

S = OrderState
Kind = LicenseActionKind


class LicenseEvents(OrderMachine):
    """The `license_event` update; part of the order workflow."""

    @workflow.update
    async def license_event(self, event: LicenseEvent) -> LicenseEventOutcome:
        """The license this order draws on was suspended, reinstated or revoked."""
        async with self._lock:
            state = self._status.state
            if state in TERMINAL_STATES or state is S.SHIPPED:
                return self._answer(Outcome.UNAFFECTED, f"the order is {state}")
            if event.kind is Kind.REINSTATE:
                return await self._reinstated(event)
            license = self._status.license
            if license is None or license.license_number != event.license_number:
                return self._answer(Outcome.UNAFFECTED, "the order draws on another license")
            if event.kind is Kind.SUSPEND:
                return await self._suspended(event)
            return await self._revoked(event)

    def _answer(self, outcome: Outcome, detail: str = "") -> LicenseEventOutcome:
        return LicenseEventOutcome(outcome=outcome, state=self._status.state, detail=detail)

    def _data(self, event: LicenseEvent) -> dict[str, object]:
        return {"license": event.license_number, "license_action": event.action_id}

    async def _suspended(self, event: LicenseEvent) -> LicenseEventOutcome:
        if self._status.license_hold == event.license_number:
            return self._answer(Outcome.HELD, "held already")
        if self._status.state is S.ON_HOLD:
            # Held by compliance for another reason: that hold is not the license's to lift.
            return self._answer(Outcome.ALREADY_ON_HOLD, "on hold for another reason")
        self._status.held_from = self._status.state
        self._status.license_hold = event.license_number
        data = self._data(event) | {"held_from": self._status.state}
        reason = f"license {event.license_number} suspended: {event.reason}"
        await self._move(S.ON_HOLD, event.actor, "license-suspended", reason, data)
        return self._answer(Outcome.HELD)

    async def _reinstated(self, event: LicenseEvent) -> LicenseEventOutcome:
        if self._status.license_hold != event.license_number:
            return self._answer(Outcome.UNAFFECTED, "not held by this license's suspension")
        back_to = self._status.held_from or S.READY_TO_SHIP
        self._status.held_from, self._status.license_hold = None, None
        reason = f"license {event.license_number} reinstated: {event.reason}"
        await self._move(back_to, event.actor, "license-reinstated", reason, self._data(event))
        return self._answer(Outcome.RELEASED)

    async def _revoked(self, event: LicenseEvent) -> LicenseEventOutcome:
        number = event.license_number
        reason = f"license {number} revoked: {event.reason}"
        await self._release_license(event.actor, reason, "revoked")
        held_by_us = self._status.license_hold == number
        self._status.license_hold = None
        data = self._data(event)
        if self._status.state is S.ON_HOLD and not held_by_us:
            self._status.held_from = S.AWAITING_LICENSE  # resumes waiting for a license
            await self._move(S.ON_HOLD, event.actor, "license-revoked", reason, data)
            return self._answer(Outcome.RELEASED_STILL_HELD, "on hold for another reason")
        self._status.held_from = None
        await self._move(S.AWAITING_LICENSE, event.actor, "license-revoked", reason, data)
        return self._answer(Outcome.RETURNED)
