"""Licenses: what is approved, used and left, and the orders drawn on each."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.api_client import ConsoleApi
from services.web.charts import usage_bar
from services.web.session import User
from services.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/licenses")
async def licenses(request: Request, user: User) -> Response:
    """Every license with quantity and value used, as bars."""
    answer = await ConsoleApi(request, user).get("/licenses")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    return render(
        request,
        "licenses.html",
        user,
        nav="licenses",
        items=answer.body["items"],
        bar=usage_bar,
    )


@router.get("/licenses/{number}")
async def license_detail(request: Request, user: User, number: str) -> Response:
    """One license: its terms, what is left, and its orders."""
    answer = await ConsoleApi(request, user).get(f"/licenses/{quote(number, safe='')}")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    return render(request, "license.html", user, nav="licenses", lic=answer.body, bar=usage_bar)
