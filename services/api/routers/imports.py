"""Bulk import of an order book from CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.responses import JSONResponse
from temporalio.client import Client

from services.api.deps import SalesOps, StateDep
from services.api.errors import ServiceUnavailable, ValidationErrorBody
from services.orders_import import COLUMNS, ImportReport, import_csv

router = APIRouter(tags=["orders"])

MAX_BYTES = 20 * 1024 * 1024


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

    async def temporal() -> Client | None:
        try:
            return await state.temporal_client()
        except ServiceUnavailable:  # booked all the same; the outbox sweeper starts them
            return None

    report = await import_csv(
        data,
        user=user.user,
        atomic=atomic,
        write_session=state.write_session,
        task_queue=state.settings.task_queue,
        temporal=temporal,
    )
    if atomic and report.errors:
        return JSONResponse(status_code=422, content=report.model_dump(mode="json"))
    return report
