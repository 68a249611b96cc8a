"""Licenses: what is approved, used and left, and the orders drawn on each."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.common import Role
from schemas.license_actions import LicenseActionKind
from services.web.api_client import ConsoleApi
from services.web.charts import usage_bar
from services.web.session import User, WebUser, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)

KINDS = {k.value for k in LicenseActionKind}


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


def _actions(lic: dict[str, Any], user: WebUser) -> list[str]:
    """The license actions this user may take now (the API decides for certain)."""
    if not user.has(Role.COMPLIANCE):
        return []
    return {
        "active": ["suspend", "revoke"],
        "suspended": ["reinstate", "revoke"],
    }.get(str(lic.get("status", "active")), [])


async def license_page(
    request: Request, user: WebUser, number: str, *, error: str = "", status: int = 200
) -> Response:
    """One license: its terms, state, what is left, its orders and its actions' progress."""
    answer = await ConsoleApi(request, user).get(f"/licenses/{quote(number, safe='')}")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    lic = answer.body
    running = any(a["finished_at"] is None for a in lic.get("actions") or [])
    done = request.query_params.get("done", "")
    return render(
        request,
        "license.html",
        user,
        status,
        nav="licenses",
        lic=lic,
        bar=usage_bar,
        actions=_actions(lic, user),
        error=error,
        flash=f"Done: {done} (the orders follow below)." if done in KINDS else None,
        auto_refresh=2 if running else 0,
    )


@router.get("/licenses/{number}")
async def license_detail(request: Request, user: User, number: str) -> Response:
    """One license: its terms, what is left, and its orders."""
    return await license_page(request, user, number)


@router.post("/licenses/{number}/{kind}")
async def license_action(request: Request, user: User, number: str, kind: str) -> Response:
    """Suspend, reinstate or revoke through the API; a refusal is shown on the page."""
    form = await checked_form(request)
    if kind not in KINDS:
        return render(request, "error.html", user, 404, message=f"no license action '{kind}'")
    body = {"reason": str(form.get("reason") or "").strip()}
    path = f"/licenses/{quote(number, safe='')}/{kind}"
    answer = await ConsoleApi(request, user).post(path, body)
    if answer.ok:
        return RedirectResponse(f"/licenses/{quote(number)}?done={kind}", status_code=303)
    fields = answer.field_errors()
    words = "; ".join(f"{k}: {v}" for k, v in fields.items()) or answer.detail
    return await license_page(request, user, number, error=words, status=answer.status)
