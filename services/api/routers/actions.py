"""Manual steps: one route per action, each a Temporal update on the order's workflow."""

# No `from __future__ import annotations` here: the routes are built in a loop and FastAPI
# must see each action's real body class, not a string it cannot resolve.

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from schemas.actions import (
    Action,
    AmendBody,
    AmendCommand,
    ApplicationStatusCommand,
    Command,
    DispositionBody,
    DispositionCommand,
    EmptyBody,
    EmptyCommand,
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
from schemas.orders import OrderStatus, OrderView
from services.api.deps import CurrentUser, StateDep
from services.api.errors import STATUS_FOR_REFUSAL, ServiceUnavailable
from services.api.metrics import MetricsDep
from services.db import orders_repo
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow
from workflows.rules.transitions import OrderFacts, RefusalKind, check_action

router = APIRouter(tags=["actions"])

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
        EmptyBody, EmptyCommand, OrderWorkflow.deliver, "Sales ops: confirm delivery"
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


def _precheck(state: Any, order_id: str, action: Action, user: Actor) -> None:
    """Refuse from the read model first: fast answers, and they work while Temporal is down."""
    # The rendered view is reused while the order is unchanged (one version read); parsing
    # its JSON for four facts is cheaper than loading and validating the row.
    body = orders_repo.rendered_view(state.engine, order_id, state.views)
    if body is None:
        raise HTTPException(404, f"no order {order_id}")
    facts = OrderFacts.from_view(json.loads(body))
    check_action(facts, action, user, datetime.now(UTC).date())


def _http_error(exc: WorkflowUpdateFailedError) -> HTTPException:
    # A refusal from an activity (e.g. license exhausted) arrives wrapped in an ActivityError.
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type in set(RefusalKind):
        return HTTPException(STATUS_FOR_REFUSAL[RefusalKind(cause.type)], cause.message)
    message = cause.message if isinstance(cause, ApplicationError) else str(exc)
    return HTTPException(409, f"the action failed: {message}")


async def _run_update(client: Any, order_id: str, spec: ActionSpec, command: Command) -> None:
    handle = client.get_workflow_handle(workflow_id_for(order_id))
    try:
        # By name, so the returned status is not validated: the answer is the read model's.
        await handle.execute_update(spec.update_name, command)
    except WorkflowUpdateFailedError as exc:
        raise _http_error(exc) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable("the order's workflow is not running yet", 2) from exc
        raise ServiceUnavailable(f"Temporal did not take the action: {exc.message}") from exc


def _make_route(action: Action, spec: ActionSpec) -> Callable[..., Awaitable[Response]]:
    body_type: Any = spec.body

    async def route(
        order_id: str,
        body: body_type,
        user: CurrentUser,
        state: StateDep,
        metrics: MetricsDep,
    ) -> Response:
        with metrics.action(action.value):
            _precheck(state, order_id, action, user)
            fields = body.model_dump() if body is not None else {}
            # Connected only after the precheck: 404/409 are answered while Temporal is down.
            client = await state.temporal_client()
            await _run_update(client, order_id, spec, spec.command(actor=user, **fields))
        # Written by the workflow before the update returned: the view is already current.
        body = orders_repo.rendered_view(state.engine, order_id, state.views)
        assert body is not None
        return Response(body, media_type="application/json")

    if spec.body is EmptyBody:  # `deliver` needs no body at all
        sig = inspect.signature(route)
        params = [
            p.replace(annotation=EmptyBody | None, default=None) if p.name == "body" else p
            for p in sig.parameters.values()
        ]
        params.sort(key=lambda p: p.default is not inspect.Parameter.empty)
        route.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    route.__name__ = "action_" + action.value.replace("-", "_")
    route.__doc__ = spec.summary
    return route


for _action, _spec in SPECS.items():
    router.add_api_route(
        f"/orders/{{order_id}}/actions/{_action.value}",
        _make_route(_action, _spec),
        methods=["POST"],
        response_model=OrderView,
        summary=_spec.summary,
        responses={403: {}, 404: {}, 409: {}, 422: {}, 503: {}},
    )
