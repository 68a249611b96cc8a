"""Bulk import of an order book from CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from services.api.deps import SalesOps, StateDep
from services.api.errors import ValidationErrorBody
from services.ops import imports as ops
from services.ops.imports import MAX_BYTES
from services.orders_import import COLUMNS, ImportReport, report_csv

router = APIRouter(tags=["orders"])


@router.post(
    "/orders/import",
    response_model=ImportReport,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the report; CSV with report=csv"},
        413: {},
        # Either the import's own report, or a request without a file (FastAPI's validation).
        422: {
            "model": ImportReport | ValidationErrorBody,
            "content": {"text/csv": {}},
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
    report: Annotated[Literal["json", "csv"], Query(description="the report's format")] = "json",
) -> ImportReport | Response:
    """Book an order book from CSV (sales ops): rows grouped into orders by `external_ref`.

    Every row is validated first and all errors come back with row and column. Atomic (the
    default): any error books nothing (422). Otherwise the good orders are booked. An order
    booked before under the same `external_ref` is not booked again. `report=csv` answers the
    report as CSV (a line per order, then per error), safe to open in a spreadsheet.
    """
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(413, f"the file is over {MAX_BYTES // 2**20} MiB; split it")

    outcome = await ops.import_orders(state, data, user=user.user, atomic=atomic)
    status = 422 if atomic and outcome.errors else 200
    if report == "csv":
        headers = {"Content-Disposition": 'attachment; filename="import-report.csv"'}
        return Response(report_csv(outcome), status, headers, media_type="text/csv")
    if status == 422:
        return JSONResponse(status_code=422, content=outcome.model_dump(mode="json"))
    return outcome
