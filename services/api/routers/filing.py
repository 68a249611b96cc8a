"""The export filing (AES/EEI) lines of an order, for the forwarder."""

from __future__ import annotations

from fastapi import APIRouter

from schemas.filing import ExportFiling
from services.api.deps import AnyRole, StateDep
from services.ops import filing as ops

router = APIRouter(tags=["orders"])


@router.get("/orders/{order_id}/export-filing", response_model=ExportFiling)
async def get_export_filing(order_id: str, _: AnyRole, state: StateDep) -> ExportFiling:
    """Per shipment line: ECCN, license code (C30/C33/C67), license number, NLR or NAC,
    quantity and value; and every party with its country."""
    return await ops.filing(state, order_id)
