"""Licenses: what is approved, used and left, and the orders drawn on each."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.common import Role
from schemas.license_actions import LicenseActionBody, LicenseActionKind
from services.ops import license_actions
from services.ops import licenses as ops
from services.web.charts import usage_bar
from services.web.failures import REFUSALS, failure
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)

KINDS = {k.value for k in LicenseActionKind}


@router.get("/licenses")
async def licenses(request: Request, user: User) -> Response:
    """Every license with quantity and value used, as bars."""
    page = await ops.licenses(app_state(request), limit=200)
    items = page.model_dump(mode="json")["items"]
    return render(request, "licenses.html", user, nav="licenses", items=items, bar=usage_bar)


def _actions(lic: dict[str, Any], user: WebUser) -> list[str]:
    """The license actions this user may take now (the operation decides for certain)."""
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
    try:
        view = await ops.license_view(app_state(request), number)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    lic = view.model_dump(mode="json")
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
    """Suspend, reinstate or revoke as the API does; a refusal is shown on the page."""
    form = await checked_form(request)
    if kind not in KINDS:
        return render(request, "error.html", user, 404, message=f"no license action '{kind}'")
    if not user.has(Role.COMPLIANCE):
        return await license_page(
            request, user, number, error=f"'{kind}' needs the compliance role", status=403
        )
    try:
        body = LicenseActionBody.model_validate({"reason": str(form.get("reason") or "")})
        await license_actions.take(
            app_state(request), number, LicenseActionKind(kind), reason=body.reason, actor=user.name
        )
    except REFUSALS as exc:
        refused = failure(exc)
        return await license_page(
            request, user, number, error=refused.detail, status=refused.status
        )
    return RedirectResponse(f"/licenses/{quote(number)}?done={kind}", status_code=303)
