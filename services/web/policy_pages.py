"""Policy: rule sets with their status, the impact preview, and the second officer's approval."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from schemas.common import Role
from services.web import charts
from services.web.api_client import ConsoleApi
from services.web.session import User, WebUser, checked_form
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
    answer = await ConsoleApi(request, user).get("/rulesets")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    return render(
        request,
        "policy.html",
        user,
        nav="policy",
        page=answer.body,
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
    api = ConsoleApi(request, user)
    path = f"/rulesets/{quote(version, safe='')}"
    found = await api.get(path)
    if not found.ok:
        return render(request, "error.html", user, found.status, message=found.detail)
    impact = await api.get(f"{path}/impact", limit=LISTED)
    report = impact.body if impact.ok else None
    done = request.query_params.get("done") == "approve"
    return render(
        request,
        "policy_detail.html",
        user,
        status,
        nav="policy",
        rs=found.body,
        report=report,
        impact_error="" if impact.ok else impact.detail,
        chart=_chart(report) if report else None,
        tone=STATUS_TONE,
        change_tone=charts.CHANGE_TONE,
        bar=charts.usage_bar,
        can_approve=may_approve(found.body, user),
        error=error,
        flash="Your approval is recorded." if done else None,
    )


@router.get("/policy/{version}")
async def policy_detail(request: Request, user: User, version: str) -> Response:
    """A rule set and what it would do to the open orders."""
    return await policy_page(request, user, version)


@router.post("/policy/{version}/approve")
async def approve(request: Request, user: User, version: str) -> Response:
    """Approve through the API's own route; its refusal is shown on the page."""
    form = await checked_form(request)
    body = {"note": str(form.get("note") or "").strip() or None}
    path = f"/rulesets/{quote(version, safe='')}/approve"
    answer = await ConsoleApi(request, user).post(path, body)
    if answer.ok:
        return RedirectResponse(f"/policy/{quote(version, safe='')}?done=approve", 303)
    return await policy_page(request, user, version, error=answer.detail, status=answer.status)


@router.get("/policy/{version}/impact.csv")
async def impact_csv(request: Request, user: User, version: str) -> Response:
    """The preview as the API's CSV (formula-like cells quoted), as a download."""
    path = f"/rulesets/{quote(version, safe='')}/impact"
    answer = await ConsoleApi(request, user).get(path, format="csv")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    name = f"impact-{version}.csv".replace('"', "")
    return PlainTextResponse(
        str(answer.body["detail"]),
        media_type="text/csv",
        headers=SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'},
    )
