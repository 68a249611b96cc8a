"""Policy changes reaching an order: a rule set activated or expired, a customs stop."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.orders import Determination, OrderState
    from schemas.rulesets import OrderImpact, OutcomeChange
    from schemas.workflow_io import RedetermineRequest
    from workflows.order_base import SYSTEM, OrderMachine
    from workflows.rules.impact import assess

S = OrderState
REDETERMINE = "redetermine"
IMPORT_STOP = "import-stop"


def change_reason(req: RedetermineRequest, impact: OrderImpact) -> str:
    """`rule set V activated: license newly required (H20: A -> B)`, for the event."""
    moved = [f"{line.sku}: {line.from_rule} -> {line.to_rule}" for line in impact.lines]
    what = impact.change.value.replace("_", " ")
    return f"rule set {req.ruleset_version} {req.event}: {what} ({'; '.join(moved)})"


def stop_reason(det: Determination) -> str:
    """Why a customs stop holds the order: each refused line, its rule and since when."""
    return "import stop: " + "; ".join(
        f"{s.destination} refuses {s.sku} since {s.since.isoformat()} ({s.rule_id}: {s.text})"
        for s in det.import_stops
    )


class PolicyChanges(OrderMachine):
    """The order's part in rule-set changes; part of the order workflow."""

    _policy_changes: list[RedetermineRequest]

    def _setup_policy(self) -> None:
        self._policy_changes = []

    @workflow.signal
    def redetermine(self, req: RedetermineRequest) -> None:
        """A rule set was activated or expired and changes this order; the run loop acts."""
        self._policy_changes.append(req)

    def _policy_pending(self) -> bool:
        return bool(self._policy_changes)

    async def _take_policy_changes(self) -> None:
        while self._policy_changes:
            req = self._policy_changes.pop(0)
            async with self._lock:
                await self._apply_policy_change(req)

    async def _apply_policy_change(self, req: RedetermineRequest) -> None:
        """Adopt the new determination; back to review, held or resumed as the preview said.

        The same `assess` computed the preview, so this does what the preview showed. A
        repeated or stale signal finds nothing changed and writes nothing.
        """
        found = assess(self.order_id, self._booking, self._status, req.determination)
        if found is None or found.impact.change is OutcomeChange.UNCHANGED:
            return
        where = found.plan
        self._status.determination = found.determination
        if where.material:
            self._status.approvals = []
        self._status.held_from = where.held_from
        self._status.held_for_import_stop = where.held_for_import_stop
        data = {
            "ruleset": req.ruleset_version,
            "event": req.event,
            "impact": found.impact.model_dump(mode="json"),
        }
        reason = change_reason(req, found.impact)
        if where.held_for_import_stop:
            reason += "; " + stop_reason(found.determination)
        await self._move(where.to_state, SYSTEM, REDETERMINE, reason, data, resume=True)

    async def _hold_for_import_stop(self) -> None:
        """Right after screening: a destination refusing a line holds the order (revision 3)."""
        det = self._status.determination
        if det is None or not det.import_stops or self._status.state is S.ON_HOLD:
            return
        self._status.held_from = self._status.state
        self._status.held_for_import_stop = True
        data = {"import_stops": [s.model_dump(mode="json") for s in det.import_stops]}
        await self._move(S.ON_HOLD, SYSTEM, IMPORT_STOP, stop_reason(det), data)
