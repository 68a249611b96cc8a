"""Licenses: recorded by compliance, drawn on by orders, read by everyone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query

from schemas.license_actions import LicenseActionBody, LicenseActionKind, LicenseActionView
from schemas.licenses import LicenseCreate, LicensePage, LicenseView, ObligationView
from services.api.deps import AnyRole, Compliance, StateDep
from services.ops import license_actions as actions
from services.ops import licenses as ops

router = APIRouter(tags=["licenses"])
Route = TypeVar("Route", bound=Callable[..., Awaitable[Any]])


@router.post("/licenses", status_code=201, response_model=LicenseView)
async def create_license(body: LicenseCreate, user: Compliance, state: StateDep) -> LicenseView:
    """Record a BIS license (compliance) that orders may then draw on by its number."""
    return await ops.create_license(state, body, actor=user.user)


@router.get("/licenses", response_model=LicensePage)
async def list_licenses(
    _: AnyRole, state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> LicensePage:
    """Licenses, soonest expiry first, with what is left on each."""
    return await ops.licenses(state, limit=limit)


@router.get("/licenses/{number}", response_model=LicenseView)
async def get_license(number: str, _: AnyRole, state: StateDep) -> LicenseView:
    """Approved, allocated, shipped and remaining; the orders on it; ledger and obligations."""
    return await ops.license_view(state, number)


@router.post("/licenses/{number}/obligations/{obligation_id}/fulfil", response_model=ObligationView)
async def fulfil_obligation(
    number: str,
    # Bounded to a 64-bit id: a bigger one overflowed the database driver (500, schemathesis).
    obligation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    user: Compliance,
    state: StateDep,
) -> ObligationView:
    """Compliance: the condition is met (a blocking one no longer stops shipment)."""
    return await ops.fulfil_obligation(
        state, number=number, obligation_id=obligation_id, actor=user.user
    )


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "In force; its orders are being reached (see GET /licenses/{number})"},
}


def _action_route(kind: LicenseActionKind) -> Callable[[Route], Route]:
    return router.post(
        f"/licenses/{{number}}/{kind.value}",
        status_code=202,
        response_model=LicenseActionView,
        responses=_ACTION_RESPONSES,
    )


@_action_route(LicenseActionKind.SUSPEND)
async def suspend_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: nothing draws on or ships under the license; its orders not yet shipped go
    ON_HOLD with the reason."""
    return await actions.take(
        state, number, LicenseActionKind.SUSPEND, reason=body.reason, actor=user.user
    )


@_action_route(LicenseActionKind.REINSTATE)
async def reinstate_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: the license is in force again; the orders its suspension held are released."""
    return await actions.take(
        state, number, LicenseActionKind.REINSTATE, reason=body.reason, actor=user.user
    )


@_action_route(LicenseActionKind.REVOKE)
async def revoke_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: the license is void; its orders' draws are released and they wait for a
    license again (AWAITING_LICENSE)."""
    return await actions.take(
        state, number, LicenseActionKind.REVOKE, reason=body.reason, actor=user.user
    )
