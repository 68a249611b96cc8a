"""Rule sets: staged by compliance, previewed by anyone, approved by two other officers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from schemas.rulesets import ApproveRuleSet, ImpactReport, RuleSetPage, RuleSetView, StageRuleSet
from services.api.deps import AnyRole, Compliance, StateDep
from services.ops import policy as ops
from services.policy.report import impact_csv

router = APIRouter(tags=["rulesets"])
Version = Annotated[str, "a rule-set version"]


@router.post("/rulesets", status_code=201, response_model=RuleSetView)
async def stage_ruleset(
    body: StageRuleSet, user: Compliance, state: StateDep, response: Response
) -> RuleSetView:
    """Compliance: stage a rule set (the `exportflow rules import` file); it decides nothing
    until two other compliance officers approve it, and then only from its effective date."""
    found, new = await ops.stage(state, body, actor=user)
    if not new:
        response.status_code = 200  # the same rule set again: nothing new was stored
    return found


@router.get("/rulesets", response_model=RuleSetPage)
async def list_rulesets(_: AnyRole, state: StateDep) -> RuleSetPage:
    """Every rule set with its status (staged, approved, active, superseded, expired)."""
    return await ops.rulesets(state)


@router.get("/rulesets/{version}", response_model=RuleSetView)
async def get_ruleset(
    version: Version,
    _: AnyRole,
    state: StateDep,
    rules: Annotated[bool, Query(description="include the rules themselves")] = False,
) -> RuleSetView:
    """Status, approvals, events, and the progress (done/total) of its latest fan-out."""
    found = await ops.ruleset(state, version)
    return found if rules else found.model_copy(update={"ruleset": None})


@router.get("/rulesets/{version}/impact", response_model=ImpactReport)
async def get_impact(
    version: Version,
    _: AnyRole,
    state: StateDep,
    on: Annotated[
        date | None, Query(description="apply the rules as of (default: effective date or today)")
    ] = None,
    include: Annotated[Literal["changed", "all"], Query()] = "changed",
    limit: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="list at most this many orders")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> ImpactReport | Response:
    """Every open order determined under this rule set against its current determination:
    per order the rule per line before and after, the outcome change and where the order
    goes; totals by change, SKU and destination. Computed from the read model only."""
    report = await ops.impact(state, version, on=on, include_all=include == "all", limit=limit)
    if format == "csv":
        name = f"impact-{version}.csv".replace('"', "")
        return PlainTextResponse(
            impact_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return report


@router.post("/rulesets/{version}/approve", response_model=RuleSetView)
async def approve_ruleset(
    version: Version, user: Compliance, state: StateDep, body: ApproveRuleSet | None = None
) -> RuleSetView:
    """Compliance: approve; two distinct officers, neither the one who staged it. The second
    approval starts the timer that activates the rule set at 00:00 UTC of its effective date
    (at once if that has passed) and expires it at `expires_on`."""
    return await ops.approve(state, version, actor=user, note=body.note if body else None)
