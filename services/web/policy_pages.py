"""Policy: rule sets with their status, the impact preview, and the second officer's approval."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from schemas.common import Role
from services.ops import policy as ops
from services.policy.report import impact_csv as csv_of
from services.web import charts
from services.web.failures import REFUSALS, failure
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
LISTED = 200  # orders in the page's table; the CSV has them all

STATUS_TONE = {
    "staged": "neutral",
    "approved": "wait",
    "active": "good",
    "superseded": "muted",
    "expired": "muted",
}


@router.get("/policy")
async def policy(request: Request, user: User) -> Response:
    """Every rule set with its status, approvals and the progress of its latest fan-out."""
    page = (await ops.rulesets(app_state(request))).model_dump(mode="json")
    return render(
        request,
        "policy.html",
        user,
        nav="policy",
        page=page,
        tone=STATUS_TONE,
        bar=charts.usage_bar,
    )


def may_approve(ruleset: dict[str, Any], user: WebUser) -> bool:
    """Whether this user's approval would count: compliance, staged set, not theirs, not yet."""
    approvers = {a["by"] for a in ruleset.get("approvals", [])}
    return (
        user.has(Role.COMPLIANCE)
        and ruleset["status"] == "staged"
        and not ruleset.get("baseline")
        and user.name != ruleset["staged_by"]
        and user.name not in approvers
    )


def _chart(report: dict[str, Any]) -> Any:
    rows = [(t["change"], t["orders"], Decimal(str(t["value"]))) for t in report["by_change"]]
    return charts.change_totals(rows)


async def policy_page(
    request: Request, user: WebUser, version: str, *, error: str = "", status: int = 200
) -> Response:
    """One rule set: status, approvals, events, and the impact preview (table and chart)."""
    state = app_state(request)
    try:
        found = (await ops.ruleset(state, version)).model_dump(mode="json")
        impact = await ops.impact(state, version, on=None, include_all=False, limit=LISTED)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    report = impact.model_dump(mode="json")
    done = request.query_params.get("done") == "approve"
    return render(
        request,
        "policy_detail.html",
        user,
        status,
        nav="policy",
        rs=found,
        report=report,
        chart=_chart(report),
        tone=STATUS_TONE,
        change_tone=charts.CHANGE_TONE,
        bar=charts.usage_bar,
        can_approve=may_approve(found, user),
        error=error,
        flash="Your approval is recorded." if done else None,
    )


@router.get("/policy/{version}")
async def policy_detail(request: Request, user: User, version: str) -> Response:
    """A rule set and what it would do to the open orders."""
    return await policy_page(request, user, version)


@router.post("/policy/{version}/approve")
async def approve(request: Request, user: User, version: str) -> Response:
    """Approve with the API's own operation; its refusal is shown on the page."""
    form = await checked_form(request)
    note = str(form.get("note") or "").strip() or None
    try:
        await ops.approve(app_state(request), version, actor=user.actor, note=note)
    except REFUSALS as exc:
        refused = failure(exc)
        return await policy_page(
            request, user, version, error=refused.detail, status=refused.status
        )
    return RedirectResponse(f"/policy/{quote(version, safe='')}?done=approve", 303)


@router.get("/policy/{version}/impact.csv")
async def impact_csv(request: Request, user: User, version: str) -> Response:
    """The preview as CSV (formula-like cells quoted), as a download."""
    try:
        report = await ops.impact(app_state(request), version, on=None, include_all=False)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    name = f"impact-{version}.csv".replace('"', "")
    return PlainTextResponse(
        csv_of(report),
        media_type="text/csv",
        headers=SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'},
    )
