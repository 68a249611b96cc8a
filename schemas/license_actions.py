"""License suspension, reinstatement and revocation: the actions, their fan-out and results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.common import Strict


class LicenseStatus(StrEnum):
    """Whether a license can be drawn on and shipped under."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class LicenseActionKind(StrEnum):
    """What compliance does to a license; the value is the URL segment."""

    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"


# The license's status once the action is taken.
STATUS_AFTER = {
    LicenseActionKind.SUSPEND: LicenseStatus.SUSPENDED,
    LicenseActionKind.REINSTATE: LicenseStatus.ACTIVE,
    LicenseActionKind.REVOKE: LicenseStatus.REVOKED,
}


class LicenseActionBody(Strict):
    """Body of `POST /licenses/{number}/suspend|reinstate|revoke`."""

    reason: str = Field(min_length=1, max_length=2000, description="Why; kept in every order")


class LicenseEvent(BaseModel):
    """What the fan-out tells one order drawing on the license (an update of its workflow)."""

    action_id: int
    kind: LicenseActionKind
    license_number: str
    reason: str
    actor: str


class Outcome(StrEnum):
    """What a license action did to one order: one line per order in the license's record."""

    HELD = "held"
    RELEASED = "released"
    RETURNED = "returned_to_awaiting_license"
    RELEASED_STILL_HELD = "draw_released_order_still_on_hold"
    ALREADY_ON_HOLD = "already_on_hold"
    UNAFFECTED = "unaffected"
    ENDED = "order_ended"


class LicenseEventOutcome(BaseModel):
    """One order's answer to a license event."""

    outcome: Outcome
    state: str
    detail: str = ""


class LicenseActionResult(BaseModel):
    """One order's line in the license's record."""

    order_id: str
    outcome: Outcome
    state: str
    detail: str
    at: datetime


class LicenseActionView(BaseModel):
    """A suspension, reinstatement or revocation, with its fan-out's progress and results."""

    id: int
    kind: LicenseActionKind
    reason: str
    actor: str
    requested_at: datetime
    total: int | None = Field(description="orders it reaches; None until counted")
    done: int = Field(description="orders answered so far")
    finished_at: datetime | None
    results: list[LicenseActionResult] = []


class LicenseActionInput(BaseModel):
    """Input of the fan-out workflow of one license action; carried across continue-as-new."""

    action_id: int
    kind: LicenseActionKind
    license_number: str
    reason: str
    actor: str
    requested_at: datetime | None = None  # in the workflow id; None in histories before it
    batch_size: int = 100
    batches_per_run: int = 20
    counted: bool = False
    after: str = ""  # the last order id answered (orders go in id order)
    done: int = 0


class BatchRequest(BaseModel):
    """The next batch of orders after `after`."""

    event: LicenseEvent
    after: str
    limit: int


class BatchResult(BaseModel):
    """What a batch did: how many orders, the last one, and whether none are left."""

    seen: int
    after: str
    finished: bool
