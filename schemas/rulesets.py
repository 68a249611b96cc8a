"""Rule sets as policy changes: staged, previewed, approved by four eyes, activated on a date."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from schemas.catalog import LicensePolicy, RuleSet
from schemas.common import Money, Strict
from schemas.orders import ImportStop, OrderState


class RuleSetStatus(StrEnum):
    """Where a rule set stands; only an active one decides determinations."""

    STAGED = "staged"
    APPROVED = "approved"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class StageRuleSet(Strict):
    """Body of `POST /rulesets`: the rule-set file (`{"ruleset": …}`) and when it applies."""

    ruleset: RuleSet
    effective_on: date | None = Field(
        default=None, description="activation date (00:00 UTC); the rule set's effective_from"
    )
    expires_on: date | None = Field(
        default=None, description="first day it no longer applies (a temporary measure)"
    )
    citation: str | None = Field(
        default=None, max_length=500, description="Federal Register notice or letter"
    )

    @model_validator(mode="after")
    def _dates(self) -> StageRuleSet:
        start = self.effective_on or self.ruleset.effective_from
        if self.expires_on is not None and self.expires_on <= start:
            raise ValueError(f"expires_on: must be after the effective date {start}")
        if len(self.ruleset.version) > 40:
            raise ValueError("ruleset.version: at most 40 characters")
        return self


class ApproveRuleSet(Strict):
    """Body of `POST /rulesets/{version}/approve`."""

    note: str | None = Field(default=None, max_length=2000)


class RuleSetApproval(BaseModel):
    """One compliance officer's approval."""

    by: str
    at: datetime
    note: str | None = None


class RuleSetEvent(BaseModel):
    """An event of a rule set: staged, approved, activated, expired, fan-out done."""

    seq: int
    at: datetime
    actor: str
    action: str
    reason: str | None = None
    data: dict[str, Any] = {}


class FanOut(BaseModel):
    """Progress of re-determining open orders after an activation or expiry."""

    event: str
    on: date
    done: int
    total: int
    changed: int
    started_at: datetime
    finished_at: datetime | None = None


class RuleSetView(BaseModel):
    """A rule set as the API shows it."""

    version: str
    status: RuleSetStatus
    baseline: bool = Field(default=False, description="the rule set bundled with the release")
    effective_on: date
    expires_on: date | None = None
    citation: str = ""
    rules: int
    import_restrictions: int = 0
    staged_by: str
    staged_at: datetime | None = None
    approvals: list[RuleSetApproval] = []
    approvals_needed: int = 2
    activated_at: datetime | None = None
    expired_at: datetime | None = None
    fan_out: FanOut | None = None
    events: list[RuleSetEvent] = []
    ruleset: RuleSet | None = Field(default=None, description="the rules (detail view only)")


class RuleSetPage(BaseModel):
    """Every rule set, newest first, the bundled baseline last."""

    items: list[RuleSetView]
    active: str


class OutcomeChange(StrEnum):
    """How an order's outcome changes under another rule set, most serious first."""

    IMPORT_STOPPED = "import_stopped"
    COMPLIANCE_REVIEW_NEEDED = "compliance_review_needed"
    LICENSE_NEWLY_REQUIRED = "license_newly_required"
    LICENSE_NO_LONGER_REQUIRED = "license_no_longer_required"
    POLICY_CHANGED = "policy_changed"
    IMPORT_STOP_LIFTED = "import_stop_lifted"
    UNCHANGED = "unchanged"


class LineImpact(BaseModel):
    """One order line: the rule that decides it now, and the one that would."""

    sku: str
    from_rule: str
    to_rule: str
    from_policy: LicensePolicy
    to_policy: LicensePolicy
    from_license_required: bool | None
    to_license_required: bool | None
    change: OutcomeChange


class OrderImpact(BaseModel):
    """One open order under the other rule set: what changes, and where the order goes."""

    order_id: str
    external_ref: str | None = None
    customer: str
    destination: str
    state: OrderState
    to_state: OrderState
    change: OutcomeChange
    from_ruleset: str
    to_ruleset: str
    units: int
    value: Money
    lines: list[LineImpact]
    import_stops: list[ImportStop] = []


class ImpactTotal(BaseModel):
    """Orders, units and value with one outcome change (per SKU or destination when given)."""

    change: OutcomeChange
    sku: str | None = None
    destination: str | None = None
    orders: int
    units: int
    value: Money


class ImpactReport(BaseModel):
    """Every open order determined under a rule set, against its current determination."""

    version: str
    on: date = Field(description="the date the rules are applied as of")
    open_orders: int
    changed_orders: int
    seconds: float = Field(description="time taken to compute this preview")
    by_change: list[ImpactTotal]
    by_sku: list[ImpactTotal]
    by_destination: list[ImpactTotal]
    orders: list[OrderImpact] = Field(description="orders whose outcome changes (or all)")
