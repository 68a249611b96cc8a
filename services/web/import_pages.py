"""The upload page of the bulk import, with the result of every row."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from schemas.common import Role
from services.csvout import csv_text
from services.ops.imports import MAX_BYTES, import_orders
from services.orders_import import COLUMNS, OPTIONAL_COLUMNS
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)

# A browser renders a few thousand table rows fine; beyond that the counts say the rest.
SHOWN_RESULTS = 2000


def _page(request: Request, user: WebUser, status: int = 200, **context: object) -> Response:
    context.setdefault("report", None)
    context.setdefault("error", "")
    return render(
        request,
        "import.html",
        user,
        status,
        nav="import",
        columns=COLUMNS,
        optional=OPTIONAL_COLUMNS,
        shown=SHOWN_RESULTS,
        **context,
    )


def _refuse(request: Request, user: WebUser) -> Response | None:
    if user.has(Role.SALES_OPS):
        return None
    return render(request, "error.html", user, 403, message="Importing orders needs sales ops.")


@router.get("/import")
async def import_form(request: Request, user: User) -> Response:
    """The upload form and the file layout."""
    return _refuse(request, user) or _page(request, user)


@router.get("/import/sample.csv")
async def sample(user: User) -> Response:
    """A two-order example file in the import layout."""
    ship = (date.today() + timedelta(days=60)).isoformat()
    rows: list[list[str]] = [list(COLUMNS)]
    buyer = ["Example Cloud Computing Co., Ltd.", "CN", "Shenzhen"]
    user_ = ["Example Inference Services Ltd.", "CN", "Beijing"]
    for ref, sku, qty, price in (
        ("PO-1001", "H20", "16", "12000.00"),
        ("PO-1001", "RTX-PRO-6000D", "8", "8500.00"),
        ("PO-1002", "H20", "40", "11800.00"),
    ):
        rows.append([ref, *buyer, *user_, "commercial AI inference", ship, sku, qty, price])
    headers = {"Content-Disposition": 'attachment; filename="exportflow-import-sample.csv"'}
    return Response(csv_text(rows), media_type="text/csv", headers=headers)


@router.post("/import")
async def upload(request: Request, user: User) -> Response:
    """Import the file as the API does and show what became of every order and row."""
    form = await checked_form(request)
    if refused := _refuse(request, user):
        return refused
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _page(request, user, 422, error="Choose a CSV file to upload.")
    atomic = form.get("atomic") == "on"
    data = await file.read()
    if len(data) > MAX_BYTES:
        return _page(
            request, user, 413, error=f"The file is over {MAX_BYTES // 2**20} MiB; split it."
        )
    report = await import_orders(app_state(request), data, user=user.name, atomic=atomic)
    status = 422 if atomic and report.errors else 200
    body = report.model_dump(mode="json")
    return _page(request, user, status, report=body, filename=file.filename)
