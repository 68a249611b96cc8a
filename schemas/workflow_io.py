"""Inputs and records exchanged between the order workflow and its activities."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from schemas.common import Money
from schemas.documents import EvidenceRequirement
from schemas.licenses import LicenseParties
from schemas.orders import (
    BookOrderRequest,
    Determination,
    LicenseAllocation,
    OrderEvent,
    OrderState,
    OrderStatus,
    Party,
    ScreeningResult,
)


class OrderPolicy(BaseModel):
    """Deadlines and thresholds in force when the order was booked."""

    review_business_days: int = 2
    license_decision_days: int = 90
    four_eyes_threshold: Decimal = Decimal("10000000")


# Behaviour changes that would break the replay of running orders are gated on the revision an
# order started under (carried in its input), not on `workflow.patched()`: no marker and no
# search-attribute upsert per order. Revisions: 1 the first; 2 a clean re-screening before
# shipment is recorded in the SHIPPED event instead of an event of its own; 3 an order whose
# destination refuses a line on import (a customs stop) is held right after screening; 4 the
# order's writes (read model and audit, license ledger, split booking) run as local activities
# in the step's workflow task; its reads (screening, determination, checks) stay activities.
WORKFLOW_REVISION = 4


class SplitStart(BaseModel):
    """Where an order split from another starts: screened, determined and approved already."""

    status: OrderStatus


class OrderInput(BaseModel):
    """Start input of the order workflow."""

    order_id: str
    booked_by: str
    booked_at: datetime
    booking: BookOrderRequest
    policy: OrderPolicy = OrderPolicy()
    # Absent from inputs written before revisions existed: those orders run as revision 1.
    revision: int = 1
    # The remainder of a partially approved order: it skips screening and determination.
    split: SplitStart | None = None


class SplitRequest(BaseModel):
    """Book the remainder of a partially approved order (idempotent by its order id)."""

    order_id: str
    split_from: str
    parent_seq: int
    booking: BookOrderRequest
    created_by: str
    status: OrderStatus
    actor: str
    reason: str | None = None
    at: datetime


class RecheckRequest(BaseModel):
    """A new list snapshot is active: re-screen if it differs.

    `ruleset_version` is set only by sweeps from before rule sets were activated explicitly
    (re-determine when it differs); rule-set changes now arrive as `RedetermineRequest`.
    """

    snapshot_id: int | None
    ruleset_version: str | None = None


class RedetermineRequest(BaseModel):
    """A rule set was activated or expired, and this order's outcome changes under it."""

    ruleset_version: str = Field(description="the rule set activated or expired")
    event: str = Field(description="activated, expired or dated-change")
    determination: Determination = Field(description="the order under the rules now in force")


class TransitionRecord(OrderEvent):
    """One audit event plus the read-model status after it; idempotent by (order_id, seq)."""

    order_id: str
    reason: str | None = None
    status: OrderStatus
    booking: BookOrderRequest | None = None  # an amendment: the booking as it is now


class ScreenRequest(BaseModel):
    """Parties of one order to screen."""

    order_id: str
    parties: dict[str, Party]


class DetermineRequest(BaseModel):
    """What license determination needs."""

    order_id: str
    booking: BookOrderRequest
    screening: ScreeningResult
    on: date | None = None  # the workflow's today; rules and country groups are dated


class DrawLine(BaseModel):
    """An order's licensed item (its lines of one SKU together), to draw on one license line."""

    sku: str
    eccn: str | None = None
    quantity: int
    value: Money
    # The line's approved terms when this decision records a new license.
    approved_quantity: int | None = None
    approved_value: Money | None = None


class AllocateRequest(BaseModel):
    """Reserve an order's licensed lines on a license (created here when terms are given).

    The license must name the order's parties and destination, and have a line for each item.
    """

    entry_key: str
    order_id: str
    license_number: str
    expires_on: date | None = None
    destination: str
    parties: LicenseParties = LicenseParties()
    lines: list[DrawLine] = []
    actor: str


class ReleaseRequest(BaseModel):
    """Give back what an order reserved on its license."""

    entry_key: str
    order_id: str
    actor: str
    reason: str


class CommitRequest(BaseModel):
    """Record a shipment against the order's reservations under its export filing."""

    entry_key: str
    order_id: str
    itn: str
    actor: str
    # What this shipment takes per item (quantity and value); None: all that is reserved.
    lines: list[DrawLine] | None = None


class ShipCheckRequest(BaseModel):
    """What must hold before goods leave, besides screening."""

    order_id: str
    license_number: str | None
    licensed_skus: list[str] = []  # the order's items that need a license draw to ship
    evidence: list[EvidenceRequirement] = []
    last_shipped_at: datetime | None = None


class ShipCheck(BaseModel):
    """Open blocking license obligations, and licensed items without a draw, named."""

    blocking: list[str] = []
    undrawn: list[str] = []


class RolesRequest(BaseModel):
    """Whose roles to look up now."""

    users: list[str]


class WhitelistRequest(BaseModel):
    """Remember that a party is not a listed entry, until a date."""

    order_id: str
    party_name: str
    entry_id: str
    until: date
    reason: str
    actor: str


class WorkflowResult(BaseModel):
    """What the order workflow returns when it ends."""

    order_id: str
    state: OrderState
    determination: Determination | None = None
    license: LicenseAllocation | None = None
