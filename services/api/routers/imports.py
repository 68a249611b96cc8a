"""Bulk import of an order book from CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.responses import JSONResponse

from services.api.deps import SalesOps, StateDep
from services.api.errors import ValidationErrorBody
from services.ops import imports as ops
from services.ops.imports import MAX_BYTES
from services.orders_import import COLUMNS, ImportReport

router = APIRouter(tags=["orders"])


@router.post(
    "/orders/import",
    response_model=ImportReport,
    responses={
        413: {},
        # Either the import's own report, or a request without a file (FastAPI's validation).
        422: {
            "model": ImportReport | ValidationErrorBody,
            "description": "atomic: nothing booked; or no file",
        },
    },
)
async def import_orders(
    user: SalesOps,
    state: StateDep,
    file: Annotated[
        UploadFile, File(description="CSV, one row per order line: " + ", ".join(COLUMNS))
    ],
    atomic: bool = True,
) -> ImportReport | JSONResponse:
    """Book an order book from CSV (sales ops): rows grouped into orders by `external_ref`.

    Every row is validated first and all errors come back with row and column. Atomic (the
    default): any error books nothing (422). Otherwise the good orders are booked. An order
    booked before under the same `external_ref` is not booked again.
    """
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(413, f"the file is over {MAX_BYTES // 2**20} MiB; split it")

    report = await ops.import_orders(state, data, user=user.user, atomic=atomic)
    if atomic and report.errors:
        return JSONResponse(status_code=422, content=report.model_dump(mode="json"))
    return report
