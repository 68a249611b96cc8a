"""Licenses: recorded by compliance, drawn on by orders, read by everyone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from schemas.licenses import LicenseCreate, LicensePage, LicenseView, ObligationView
from services.api.deps import AnyRole, Compliance, SessionDep, StateDep
from services.api.state import AppState
from services.db import licenses_repo, licenses_view
from workflows.activities import LicenseConflict

router = APIRouter(tags=["licenses"])


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
    except IntegrityError as exc:  # recorded at the same moment by another request
        raise HTTPException(409, f"license {body.license_number} is already recorded") from exc
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
