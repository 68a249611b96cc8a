"""Licenses: recorded by compliance, drawn on by orders, read by everyone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from schemas.licenses import LicenseCreate, LicensePage, LicenseView, ObligationView
from services.db import licenses_repo, licenses_view
from services.ops.errors import NotFound, conflict
from services.ops.state import AppState
from workflows.activities import LicenseConflict


async def licenses(state: AppState, *, limit: int) -> LicensePage:
    """Licenses, soonest expiry first, with what is left on each."""
    return await state.read(lambda session: licenses_view.list_licenses(session, limit=limit))


async def license_view(state: AppState, number: str) -> LicenseView:
    """One license: terms, usage, orders, ledger and obligations."""
    view = await state.read(lambda session: licenses_view.get_license(session, number=number))
    if view is None:
        raise NotFound(f"no license {number}")
    return view


async def create_license(state: AppState, body: LicenseCreate, *, actor: str) -> LicenseView:
    """Record a BIS license that orders may then draw on by its number."""

    def write(session: Session) -> None:
        licenses_repo.create_license(session, body, actor=actor, now=datetime.now(UTC))

    try:
        await state.write(write)
    except LicenseConflict as exc:
        raise conflict(str(exc)) from exc
    return await license_view(state, body.license_number)


async def fulfil_obligation(
    state: AppState, *, number: str, obligation_id: int, actor: str
) -> ObligationView:
    """The obligation is met (a blocking one no longer stops shipment)."""

    def write(session: Session) -> ObligationView | None:
        row = licenses_repo.fulfil_obligation(
            session, number=number, obligation_id=obligation_id, actor=actor, now=datetime.now(UTC)
        )
        return licenses_view.obligation_view(row) if row is not None else None

    view = await state.write(write)
    if view is None:
        raise NotFound(f"license {number} has no obligation {obligation_id}")
    return view
