"""Inputs and results of the rule-set workflow (activation timer and fan-out) and its activities."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Phase(StrEnum):
    """Where a rule set's workflow is: waiting for its date, in force, or done."""

    WAITING = "waiting"
    ACTIVE = "active"
    DONE = "done"


class FanOutCursor(BaseModel):
    """A fan-out in progress: which rules, as of when, and how far through the open orders."""

    event: str = Field(description="activated, expired or dated-change")
    target: str = Field(description="the rule set whose rules the orders are determined under")
    on: date
    after: str | None = Field(default=None, description="last order id done (ids ascending)")
    done: int = 0
    changed: int = 0
    total: int = 0


class RuleSetInput(BaseModel):
    """Start input of a rule set's workflow, and its state across continue-as-new."""

    version: str
    effective_on: date
    expires_on: date | None = None
    batch_size: int = Field(default=200, ge=1, le=5000)
    batches_per_run: int = Field(default=100, ge=1, description="then continue-as-new")
    phase: Phase = Phase.WAITING
    fan_out: FanOutCursor | None = None
    dated: list[date] = Field(
        default=[], description="days while in force on which its own rules change"
    )


class ActivateRequest(BaseModel):
    """Activate (or expire) a rule set at the workflow's time."""

    version: str
    at: datetime


class Activated(BaseModel):
    """What activating or expiring changed: the set in force now, and the orders to look at."""

    done: bool = Field(description="False when it cannot happen (expired or withdrawn before)")
    in_force: str = Field(description="the rule set in force afterwards")
    changed_in_force: bool = Field(description="whether the set in force changed")
    open_orders: int = 0


class FanOutBatch(BaseModel):
    """One batch of a fan-out: determine these open orders, signal those that change."""

    version: str = Field(description="the rule set whose event this is")
    cursor: FanOutCursor
    limit: int


class FanOutResult(BaseModel):
    """How far the batch got."""

    after: str | None
    seen: int
    changed: int
    finished: bool = Field(description="no open orders after `after`")
    stopped: bool = Field(default=False, description="the target is no longer in force")


class FanOutDone(BaseModel):
    """A finished (or stopped) fan-out, recorded as an event of the rule set."""

    version: str
    cursor: FanOutCursor
    at: datetime
    stopped: bool = False
