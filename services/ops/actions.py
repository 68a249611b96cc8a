"""Manual steps on an order: checked against the read model, then a Temporal update."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from schemas.actions import (
    Action,
    AmendBody,
    AmendCommand,
    ApplicationStatusCommand,
    Command,
    DeliverBody,
    DeliverCommand,
    DispositionBody,
    DispositionCommand,
    LicenseBody,
    LicenseCommand,
    NoteBody,
    NoteCommand,
    ReasonBody,
    ReasonCommand,
    ShipBody,
    ShipCommand,
    SubmitApplicationCommand,
)
from schemas.applications import ApplicationStatusBody, SubmitApplicationBody
from schemas.common import Actor, Strict
from schemas.orders import OrderStatus
from services.ops.errors import NotFound, ServiceUnavailable, conflict
from services.ops.state import AppState
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow
from workflows.order_base import BUSY
from workflows.rules.transitions import OrderFacts, Refusal, RefusalKind, check_action

# While another step of the order is being recorded, the workflow answers "busy"; the action
# is tried again after these pauses (seconds), then the client is told to retry.
BUSY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)

# The SDK types each update as UpdateMethodMultiParam[[OrderWorkflow, XCommand], OrderStatus].
UpdateMethod = UpdateMethodMultiParam[[OrderWorkflow, Any], OrderStatus]


@dataclass(frozen=True)
class ActionSpec:
    """How an action's body becomes a command for its update."""

    body: type[Strict]
    command: type[Command]
    update: UpdateMethod
    summary: str

    @property
    def update_name(self) -> str:
        """The update's name in Temporal: its handler's name."""
        return str(self.update.__name__)  # type: ignore[attr-defined]


SPECS: dict[Action, ActionSpec] = {
    Action.CLEAR_SCREENING: ActionSpec(
        ReasonBody,
        ReasonCommand,
        OrderWorkflow.clear_screening,
        "Compliance: every open screening match is a false positive",
    ),
    Action.DISPOSITION: ActionSpec(
        DispositionBody,
        DispositionCommand,
        OrderWorkflow.disposition,
        "Compliance: not a match (optionally whitelisted), verified match, or escalate",
    ),
    Action.APPROVE: ActionSpec(
        NoteBody, NoteCommand, OrderWorkflow.approve, "Compliance: approve (not your own order)"
    ),
    Action.REJECT: ActionSpec(
        ReasonBody, ReasonCommand, OrderWorkflow.reject, "Compliance: reject"
    ),
    Action.RECORD_LICENSE: ActionSpec(
        LicenseBody,
        LicenseCommand,
        OrderWorkflow.record_license,
        "Compliance: record BIS's license decision",
    ),
    Action.HOLD: ActionSpec(ReasonBody, ReasonCommand, OrderWorkflow.hold, "Compliance: hold"),
    Action.RELEASE: ActionSpec(
        ReasonBody, ReasonCommand, OrderWorkflow.release, "Compliance: release a hold"
    ),
    Action.CANCEL: ActionSpec(
        ReasonBody, ReasonCommand, OrderWorkflow.cancel, "Sales ops: cancel before shipment"
    ),
    Action.SHIP: ActionSpec(ShipBody, ShipCommand, OrderWorkflow.ship, "Sales ops: ship"),
    Action.DELIVER: ActionSpec(
        DeliverBody,
        DeliverCommand,
        OrderWorkflow.deliver,
        "Sales ops: a shipment arrived (`shipment` index; absent: every one on its way)",
    ),
    Action.AMEND: ActionSpec(
        AmendBody,
        AmendCommand,
        OrderWorkflow.amend,
        "Sales ops: change lines, parties, ship date or end use before shipment",
    ),
    Action.SUBMIT_APPLICATION: ActionSpec(
        SubmitApplicationBody,
        SubmitApplicationCommand,
        OrderWorkflow.submit_application,
        "Compliance: the BIS application was filed (SNAP-R control number)",
    ),
    Action.APPLICATION_STATUS: ActionSpec(
        ApplicationStatusBody,
        ApplicationStatusCommand,
        OrderWorkflow.application_status,
        "Compliance: BIS registered, held, referred or returned the application",
    ),
}


async def take_action(
    state: AppState, order_id: str, action: Action, user: Actor, body: Strict | None
) -> bytes:
    """Check the action against the order as it is, run its update; the order view after it.

    Raises NotFound, Refusal (403/409/422) or ServiceUnavailable.
    """
    spec = SPECS[action]
    seen = await _precheck(state, order_id, action, user)
    fields = body.model_dump() if body is not None else {}
    # Connected only after the precheck: 404/409 are answered while Temporal is down.
    client = await state.temporal_client()
    command = spec.command(actor=user, read_seq=seen, **fields)
    await _run_update(client, order_id, spec, command)
    # Written by the workflow before the update returned: the view is already current.
    view = await state.lookups.view(order_id)
    assert view is not None
    return view


async def _precheck(state: AppState, order_id: str, action: Action, user: Actor) -> int:
    """Refuse from the read model first: fast answers, and they work while Temporal is down.

    Returns the order's `seq` as read, which the workflow compares with its own.
    """
    # The rendered view is reused while the order is unchanged (one version read); parsing
    # its JSON for four facts is cheaper than loading and validating the row.
    found = await state.lookups.current(order_id)
    if found is None:
        raise NotFound(f"no order {order_id}")
    seq, body = found
    facts = OrderFacts.from_view(json.loads(body))
    check_action(facts, action, user, datetime.now(UTC).date())
    return seq


def _refusal(exc: WorkflowUpdateFailedError) -> Refusal:
    # A refusal from an activity (e.g. license exhausted) arrives wrapped in an ActivityError.
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type in set(RefusalKind):
        return Refusal(RefusalKind(cause.type), cause.message)
    message = cause.message if isinstance(cause, ApplicationError) else str(exc)
    return conflict(f"the action failed: {message}")


def _busy(exc: WorkflowUpdateFailedError) -> bool:
    cause = exc.cause
    return isinstance(cause, ApplicationError) and cause.type == BUSY


async def _run_update(client: Any, order_id: str, spec: ActionSpec, command: Command) -> None:
    """Run the update; while the order is busy with another step, wait and try again."""
    for pause in (*BUSY_PAUSES, None):
        try:
            await _update_once(client, order_id, spec, command)
            return
        except WorkflowUpdateFailedError as exc:
            if not _busy(exc):
                raise _refusal(exc) from exc
            if pause is None:
                raise ServiceUnavailable(
                    "another step of this order is still being recorded; try again", 1
                ) from exc
            # Refused by the validator: nothing happened, so sending it again is safe.
            await asyncio.sleep(pause)


async def _update_once(client: Any, order_id: str, spec: ActionSpec, command: Command) -> None:
    handle = client.get_workflow_handle(workflow_id_for(order_id))
    try:
        # By name, so the returned status is not validated: the answer is the read model's.
        await handle.execute_update(spec.update_name, command)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable("the order's workflow is not running yet", 2) from exc
        raise ServiceUnavailable(f"Temporal did not take the action: {exc.message}") from exc
    except RPCTimeoutOrCancelledError as exc:
        # Temporal took the request but no worker decided on it in time (workers down or
        # overloaded). It was a 500; the action may still take effect, so say so.
        raise ServiceUnavailable(
            "Temporal did not confirm the action in time; it may still take effect: "
            "look at the order before trying again"
        ) from exc
