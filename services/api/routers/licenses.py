"""Licenses: recorded by compliance, drawn on by orders, read by everyone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from schemas.license_actions import LicenseActionBody, LicenseActionKind, LicenseActionView
from schemas.licenses import LicenseCreate, LicensePage, LicenseView, ObligationView
from services.api.deps import AnyRole, Compliance, SessionDep, StateDep
from services.api.errors import ServiceUnavailable
from services.api.state import AppState
from services.db import license_actions_repo, licenses_repo, licenses_view
from services.db.models import LicenseActionRow
from services.license_fanout import start_action
from workflows.activities import LicenseConflict

router = APIRouter(tags=["licenses"])
log = logging.getLogger(__name__)


def _create(state: AppState, body: LicenseCreate, actor: str) -> None:
    with state.write_session() as session:
        licenses_repo.create_license(session, body, actor=actor, now=datetime.now(UTC))
        session.commit()


@router.post("/licenses", status_code=201, response_model=LicenseView)
async def create_license(body: LicenseCreate, user: Compliance, state: StateDep) -> LicenseView:
    """Record a BIS license (compliance) that orders may then draw on by its number."""
    try:
        await run_in_threadpool(_create, state, body, user.user)
    except LicenseConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    with state.read_session() as session:
        view = licenses_view.get_license(session, number=body.license_number)
    assert view is not None
    return view


@router.get("/licenses", response_model=LicensePage)
async def list_licenses(
    _: AnyRole, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> LicensePage:
    """Licenses, soonest expiry first, with what is left on each."""
    return licenses_view.list_licenses(session, limit=limit)


@router.get("/licenses/{number}", response_model=LicenseView)
async def get_license(number: str, _: AnyRole, session: SessionDep) -> LicenseView:
    """Approved, allocated, shipped and remaining; the orders on it; ledger and obligations."""
    view = licenses_view.get_license(session, number=number)
    if view is None:
        raise HTTPException(404, f"no license {number}")
    return view


@router.post("/licenses/{number}/obligations/{obligation_id}/fulfil", response_model=ObligationView)
async def fulfil_obligation(
    number: str,
    # Bounded to a 64-bit id: a bigger one overflowed the database driver (500, schemathesis).
    obligation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    user: Compliance,
    state: StateDep,
) -> ObligationView:
    """Compliance: the condition is met (a blocking one no longer stops shipment)."""
    with state.write_session() as session:
        row = licenses_repo.fulfil_obligation(
            session,
            number=number,
            obligation_id=obligation_id,
            actor=user.user,
            now=datetime.now(UTC),
        )
        if row is None:
            raise HTTPException(404, f"license {number} has no obligation {obligation_id}")
        session.commit()
        return licenses_view.obligation_view(row)


def _request(
    state: AppState, number: str, kind: LicenseActionKind, reason: str, actor: str
) -> LicenseActionRow | None:
    with state.write_session() as session:
        row = license_actions_repo.request_action(
            session, number=number, kind=kind, reason=reason, actor=actor, now=datetime.now(UTC)
        )
        session.commit()
        if row is not None:
            session.refresh(row)
            session.expunge(row)
        return row


async def _take(
    state: AppState, number: str, kind: LicenseActionKind, body: LicenseActionBody, actor: str
) -> LicenseActionView:
    """Change the license's status now; its orders are reached by the action's workflow."""
    try:
        row = await run_in_threadpool(_request, state, number, kind, body.reason, actor)
    except LicenseConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    if row is None:
        raise HTTPException(404, f"no license {number}")
    try:
        client = await state.temporal_client()
        await start_action(client, state.write_session, row, state.settings)
    except (ServiceUnavailable, RPCError):
        # Recorded and in force: the worker's outbox starts the fan-out once Temporal is back.
        log.warning("license action %s recorded; its fan-out starts when Temporal is back", row.id)
    return license_actions_repo.action_view(row)


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "In force; the orders are being reached (see GET /licenses/{number})"},
}


@router.post(
    "/licenses/{number}/suspend",
    status_code=202,
    response_model=LicenseActionView,
    responses=_ACTION_RESPONSES,
)
async def suspend_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: nothing draws on or ships under the license; its orders not yet shipped go
    ON_HOLD with the reason."""
    return await _take(state, number, LicenseActionKind.SUSPEND, body, user.user)


@router.post(
    "/licenses/{number}/reinstate",
    status_code=202,
    response_model=LicenseActionView,
    responses=_ACTION_RESPONSES,
)
async def reinstate_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: the license is in force again; the orders its suspension held are released."""
    return await _take(state, number, LicenseActionKind.REINSTATE, body, user.user)


@router.post(
    "/licenses/{number}/revoke",
    status_code=202,
    response_model=LicenseActionView,
    responses=_ACTION_RESPONSES,
)
async def revoke_license(
    number: str, body: LicenseActionBody, user: Compliance, state: StateDep
) -> LicenseActionView:
    """Compliance: the license is void; its orders' draws are released and they wait for a
    license again (AWAITING_LICENSE)."""
    return await _take(state, number, LicenseActionKind.REVOKE, body, user.user)
