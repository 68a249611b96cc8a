"""Licenses: what is approved, used and left, and the orders drawn on each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.ops import licenses as ops
from services.web.charts import usage_bar
from services.web.failures import REFUSALS, failure
from services.web.session import User, app_state
from services.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/licenses")
async def licenses(request: Request, user: User) -> Response:
    """Every license with quantity and value used, as bars."""
    page = await ops.licenses(app_state(request), limit=200)
    items = page.model_dump(mode="json")["items"]
    return render(request, "licenses.html", user, nav="licenses", items=items, bar=usage_bar)


@router.get("/licenses/{number}")
async def license_detail(request: Request, user: User, number: str) -> Response:
    """One license: its terms, what is left, and its orders."""
    try:
        view = await ops.license_view(app_state(request), number)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    lic = view.model_dump(mode="json")
    return render(request, "license.html", user, nav="licenses", lic=lic, bar=usage_bar)
