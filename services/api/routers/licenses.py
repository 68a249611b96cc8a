"""Licenses: what is approved, drawn and left."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from schemas.licenses import LicenseView
from services.api.deps import AnyRole, SessionDep
from services.db import licenses_repo

router = APIRouter(tags=["licenses"])


@router.get("/licenses/{number}", response_model=LicenseView)
async def get_license(number: str, _: AnyRole, session: SessionDep) -> LicenseView:
    """Approved, allocated and remaining quantity and value, and the orders on the license."""
    view = licenses_repo.get_license(session, number=number)
    if view is None:
        raise HTTPException(404, f"no license {number}")
    return view
