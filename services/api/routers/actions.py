"""Manual steps: one route per action, each a Temporal update on the order's workflow.

Every route is written out with its own body type: FastAPI reads each signature as it is, and
the OpenAPI description names each action's body. The work is `services.ops.actions`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Response

from schemas.actions import (
    Action,
    AmendBody,
    DeliverBody,
    DispositionBody,
    LicenseBody,
    NoteBody,
    ReasonBody,
    ShipBody,
)
from schemas.applications import ApplicationStatusBody, SubmitApplicationBody
from schemas.common import Actor, Strict
from schemas.orders import OrderView
from services.api.deps import CurrentUser, StateDep
from services.api.metrics import ApiMetrics, MetricsDep
from services.ops.actions import SPECS, take_action
from services.ops.state import AppState

router = APIRouter(tags=["actions"])
RESPONSES: dict[int | str, dict[str, Any]] = {403: {}, 404: {}, 409: {}, 422: {}, 503: {}}
Route = TypeVar("Route", bound=Callable[..., Awaitable[Response]])


def _route(action: Action) -> Callable[[Route], Route]:
    """`POST /orders/{order_id}/actions/<action>`, answered with the order view."""
    return router.post(
        f"/orders/{{order_id}}/actions/{action.value}",
        summary=SPECS[action].summary,
        response_model=OrderView,
        responses=RESPONSES,
    )


async def _act(
    state: AppState,
    metrics: ApiMetrics,
    order_id: str,
    action: Action,
    user: Actor,
    body: Strict | None,
) -> Response:
    with metrics.action(action.value):
        view = await take_action(state, order_id, action, user, body)
    return Response(view, media_type="application/json")


@_route(Action.CLEAR_SCREENING)
async def action_clear_screening(
    order_id: str, body: ReasonBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: every open screening match is a false positive."""
    return await _act(state, metrics, order_id, Action.CLEAR_SCREENING, user, body)


@_route(Action.DISPOSITION)
async def action_disposition(
    order_id: str, body: DispositionBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: not a match (optionally whitelisted), verified match, or escalate."""
    return await _act(state, metrics, order_id, Action.DISPOSITION, user, body)


@_route(Action.APPROVE)
async def action_approve(
    order_id: str, body: NoteBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: approve (not your own order)."""
    return await _act(state, metrics, order_id, Action.APPROVE, user, body)


@_route(Action.REJECT)
async def action_reject(
    order_id: str, body: ReasonBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: reject."""
    return await _act(state, metrics, order_id, Action.REJECT, user, body)


@_route(Action.RECORD_LICENSE)
async def action_record_license(
    order_id: str, body: LicenseBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: record BIS's license decision."""
    return await _act(state, metrics, order_id, Action.RECORD_LICENSE, user, body)


@_route(Action.HOLD)
async def action_hold(
    order_id: str, body: ReasonBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: hold."""
    return await _act(state, metrics, order_id, Action.HOLD, user, body)


@_route(Action.RELEASE)
async def action_release(
    order_id: str, body: ReasonBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Compliance: release a hold."""
    return await _act(state, metrics, order_id, Action.RELEASE, user, body)


@_route(Action.CANCEL)
async def action_cancel(
    order_id: str, body: ReasonBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Sales ops: cancel before shipment."""
    return await _act(state, metrics, order_id, Action.CANCEL, user, body)


@_route(Action.SHIP)
async def action_ship(
    order_id: str, body: ShipBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Sales ops: ship."""
    return await _act(state, metrics, order_id, Action.SHIP, user, body)


@_route(Action.DELIVER)
async def action_deliver(
    order_id: str,
    user: CurrentUser,
    state: StateDep,
    metrics: MetricsDep,
    body: DeliverBody | None = None,
) -> Response:
    """Sales ops: a shipment arrived (`shipment` index; no body: every one on its way)."""
    return await _act(state, metrics, order_id, Action.DELIVER, user, body)


@_route(Action.SUBMIT_APPLICATION)
async def action_submit_application(
    order_id: str,
    body: SubmitApplicationBody,
    user: CurrentUser,
    state: StateDep,
    metrics: MetricsDep,
) -> Response:
    """Compliance: the BIS application was filed (SNAP-R control number)."""
    return await _act(state, metrics, order_id, Action.SUBMIT_APPLICATION, user, body)


@_route(Action.APPLICATION_STATUS)
async def action_application_status(
    order_id: str,
    body: ApplicationStatusBody,
    user: CurrentUser,
    state: StateDep,
    metrics: MetricsDep,
) -> Response:
    """Compliance: BIS registered, held, referred or returned the application."""
    return await _act(state, metrics, order_id, Action.APPLICATION_STATUS, user, body)


@_route(Action.AMEND)
async def action_amend(
    order_id: str, body: AmendBody, user: CurrentUser, state: StateDep, metrics: MetricsDep
) -> Response:
    """Sales ops: change lines, parties, ship date or end use before shipment."""
    return await _act(state, metrics, order_id, Action.AMEND, user, body)
