"""Orders: the booking body, the order view and its parts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.applications import Application
from schemas.catalog import LicensePolicy
from schemas.common import CountryCode, Money, Role, Strict
from schemas.documents import EvidenceRequirement


class OrderState(StrEnum):
    """Where an order is in its lifecycle; these names are part of the API contract."""

    BOOKED = "BOOKED"
    SCREENING = "SCREENING"
    SCREENING_REVIEW = "SCREENING_REVIEW"
    COMPLIANCE_REVIEW = "COMPLIANCE_REVIEW"
    AWAITING_LICENSE = "AWAITING_LICENSE"
    READY_TO_SHIP = "READY_TO_SHIP"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    REJECTED = "REJECTED"
    LICENSE_DENIED = "LICENSE_DENIED"
    CANCELLED = "CANCELLED"
    ON_HOLD = "ON_HOLD"


TERMINAL_STATES = frozenset(
    {OrderState.DELIVERED, OrderState.REJECTED, OrderState.LICENSE_DENIED, OrderState.CANCELLED}
)


class Party(Strict):
    """A party to the export: who it is and where."""

    name: str = Field(min_length=1, max_length=200)
    country: CountryCode
    address: str = Field(default="", max_length=500)
    headquarters_country: CountryCode | None = Field(
        default=None, description="where the party's ultimate parent is headquartered"
    )


class OrderLine(Strict):
    """One product line of an order."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1_000_000)
    unit_price: Money = Field(gt=Decimal(0))


class BookOrderRequest(Strict):
    """Body of `POST /orders`."""

    purchaser: Party
    end_user: Party
    ultimate_consignee: Party | None = Field(
        default=None, description="who receives the goods for the end user; the end user if absent"
    )
    intermediate_consignees: list[Party] = Field(default=[], max_length=10)
    ship_from: CountryCode = Field(
        default="US", description="where the goods leave from: US is an export, else a reexport"
    )
    end_use: str = Field(min_length=1, max_length=1000)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)
    requested_ship_date: date
    external_ref: str | None = Field(default=None, max_length=100)

    def parties(self) -> dict[str, Party]:
        """Every party of the order by its role, as screening and the license name them."""
        named: dict[str, Party] = {"purchaser": self.purchaser, "end_user": self.end_user}
        if self.ultimate_consignee is not None:
            named["ultimate_consignee"] = self.ultimate_consignee
        for i, party in enumerate(self.intermediate_consignees, start=1):
            named[f"intermediate_consignee_{i}"] = party
        return named

    def consignee(self) -> Party:
        """The ultimate consignee, or the end user when the order names none."""
        return self.ultimate_consignee or self.end_user


class WaitingFor(BaseModel):
    """Which actions the order waits for and which role may take them."""

    actions: list[str]
    role: Role


class ScreeningHit(BaseModel):
    """One potential match of a party against a screening-list entry."""

    party: str
    party_name: str
    entry_id: str
    entry_name: str
    matched_name: str
    source: str
    score: float
    programs: str = ""
    license_requirement: str = ""
    license_policy: str = ""


class HitDecision(StrEnum):
    """Compliance's disposition of a potential match."""

    NOT_A_MATCH = "not_a_match"
    VERIFIED_MATCH = "verified_match"
    ESCALATED = "escalated"


class Disposition(BaseModel):
    """Who decided what about one listed entry that matched, when and why."""

    entry_id: str
    decision: HitDecision
    by: str
    at: datetime
    reason: str
    whitelisted_until: date | None = None


class ScreeningStatus(StrEnum):
    """Where screening of an order's parties stands."""

    CLEAR = "clear"
    POTENTIAL_MATCH = "potential_match"
    ESCALATED = "escalated"
    CLEARED = "cleared"
    VERIFIED_MATCH = "verified_match"


def screening_status(*, has_hits: bool, open_hits: bool) -> ScreeningStatus:
    """Open hits wait for compliance; hits all found 'not a match' are cleared."""
    if open_hits:
        return ScreeningStatus.POTENTIAL_MATCH
    return ScreeningStatus.CLEARED if has_hits else ScreeningStatus.CLEAR


class ScreeningResult(BaseModel):
    """Outcome of screening all parties of an order against one list snapshot."""

    status: ScreeningStatus
    snapshot_id: int | None = None
    screened_at: datetime
    hits: list[ScreeningHit] = []
    whitelisted: list[str] = Field(default=[], description="entry ids skipped by a whitelist")
    dispositions: dict[str, Disposition] = {}
    cleared_by: str | None = None
    cleared_reason: str | None = None

    def open_hits(self) -> list[ScreeningHit]:
        """Hits nobody has found to be 'not a match' yet."""
        return [
            h
            for h in self.hits
            if (d := self.dispositions.get(h.entry_id)) is None
            or d.decision is not HitDecision.NOT_A_MATCH
        ]


class LineDetermination(BaseModel):
    """One order line's determination: the rule that decided it and its export-filing code."""

    sku: str
    eccn: str
    license_required: bool | None = Field(description="None: no rule decides; compliance must")
    policy: LicensePolicy
    rule_id: str
    rule_text: str
    citation: str = ""
    license_code: str | None = Field(
        description="AES code: C30 (license), C33 (NLR), C67 (NAC notification); None: undecided"
    )
    conditions: list[str] = []
    evidence: list[EvidenceRequirement] = []
    decided_by: str | None = Field(default=None, description="officer who decided a no-rule line")


NO_RULE_ID = "NO-RULE-COMPLIANCE-DECIDES"


class ImportStop(BaseModel):
    """A line the destination refuses on import (a customs stop): the order is held."""

    sku: str
    destination: str
    rule_id: str
    text: str
    citation: str = ""
    since: date


class Determination(BaseModel):
    """License determination for an order: per line, and the strictest line for the order."""

    license_required: bool | None = Field(description="None while a line has no deciding rule")
    policy: LicensePolicy
    rule_id: str
    rule_text: str
    ruleset_version: str
    license_code: str | None = Field(description="the strictest line's AES code")
    destination: str
    compliance_review_required: bool
    ship_from: str = "US"
    lines: list[LineDetermination] = []
    import_stops: list[ImportStop] = Field(
        default=[], description="lines a destination refuses on import: the order is held"
    )

    def undecided_skus(self) -> list[str]:
        """Lines no rule decides: compliance must say whether they need a license."""
        return [line.sku for line in self.lines if line.license_required is None]

    def evidence(self) -> list[EvidenceRequirement]:
        """Documents the lines' rules require before shipment, each kind once."""
        seen: dict[str, EvidenceRequirement] = {}
        for line in self.lines:
            for req in line.evidence:
                known = seen.get(req.kind)
                if known is None or (req.per_shipment and not known.per_shipment):
                    seen[req.kind] = req
        return list(seen.values())

    def licensed_skus(self) -> list[str]:
        """Lines that need a license (and so draw on one)."""
        if not self.lines:  # determinations before per-line data: the whole order
            return [] if not self.license_required else ["*"]
        return [line.sku for line in self.lines if line.license_required]


class AllocatedLine(BaseModel):
    """One licensed item of an order drawn on one line of its license."""

    sku: str
    license_line: int
    quantity: int
    value: Money


class LicenseAllocation(BaseModel):
    """What an order draws on a license: in total, and per licensed line."""

    license_number: str
    quantity: int
    value: Money
    expires_on: date
    # Empty in allocations made before licenses had lines: the whole order drew.
    lines: list[AllocatedLine] = []

    def covers(self, skus: list[str]) -> bool:
        """True when every SKU given is drawn (an allocation from before lines covers all)."""
        return not self.lines or set(skus) <= {line.sku for line in self.lines}


class ShipmentLine(Strict):
    """What of one SKU leaves in a shipment."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1_000_000)


class Shipment(BaseModel):
    """How (part of) the order left: one export filing, one carrier, one tracking number."""

    carrier: str
    tracking_number: str
    itn: str
    shipped_at: datetime
    shipped_by: str
    delivered_at: datetime | None = None
    # Empty in shipments from before partial shipments: the whole order left at once.
    lines: list[ShipmentLine] = []


class SplitRef(BaseModel):
    """Where a split order came from: the order BIS approved only part of."""

    order_id: str
    seq: int = Field(description="the original's event that split it")


class OrderLineView(BaseModel):
    """An order line as the API shows it, with how much of it has shipped."""

    sku: str
    quantity: int
    unit_price: Money
    shipped: int = 0


class Approval(BaseModel):
    """A compliance approval."""

    by: str
    at: datetime
    note: str | None = None


class OrderStatus(BaseModel):
    """Everything the workflow decides about an order; written whole to the read model."""

    state: OrderState
    held_from: OrderState | None = None
    held_for_import_stop: bool = Field(
        default=False, description="held by the system because a destination refuses the goods"
    )
    waiting_for: WaitingFor | None = None
    screening: ScreeningResult | None = None
    determination: Determination | None = None
    approvals: list[Approval] = []
    license: LicenseAllocation | None = None
    license_resubmissions: int = 0
    application: Application | None = None
    approvals_needed: int = 1
    shipment: Shipment | None = Field(default=None, description="the latest shipment")
    shipments: list[Shipment] = []
    split_from: SplitRef | None = None
    split_into: list[str] = []
    license_hold: str | None = Field(
        default=None, description="the license whose suspension holds the order"
    )
    due_at: datetime | None = None
    overdue: bool = False

    def all_shipments(self) -> list[Shipment]:
        """Every shipment; a status from before partial shipments has only `shipment`."""
        if self.shipments:
            return self.shipments
        return [self.shipment] if self.shipment is not None else []


class OrderView(BaseModel):
    """The order as the API returns it."""

    id: str
    seq: int = Field(
        default=0, description="Changes so far; `GET .../watch?after_seq=` waits for the next"
    )
    external_ref: str | None
    state: OrderState
    held_from: OrderState | None
    waiting_for: WaitingFor | None
    license_required: bool | None
    determination: Determination | None
    screening: ScreeningResult | None
    license: LicenseAllocation | None
    application: Application | None = None
    approvals: list[Approval]
    approvals_needed: int
    due_at: datetime | None
    overdue: bool
    shipment: Shipment | None
    shipments: list[Shipment] = []
    split_from: SplitRef | None = None
    split_into: list[str] = []
    license_hold: str | None = None
    purchaser: Party
    end_user: Party
    ultimate_consignee: Party | None = None
    intermediate_consignees: list[Party] = []
    ship_from: str = "US"
    end_use: str
    lines: list[OrderLineView]
    requested_ship_date: date
    total_value: Money
    total_quantity: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    retention_until: date | None = None
    legal_hold: bool = False


class OrderSummary(BaseModel):
    """An order as the order book lists it; `GET /orders/{id}` has the whole order."""

    id: str
    external_ref: str | None
    state: OrderState
    waiting_role: Role | None = Field(description="Whose step it is, if anyone's")
    purchaser: str
    end_user: str
    destination: str
    skus: list[str]
    total_quantity: int
    total_value: Money
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    """A page of orders."""

    items: list[OrderSummary]
    next_cursor: str | None


class OrderEvent(BaseModel):
    """One entry of an order's audit trail."""

    seq: int
    at: datetime
    actor: str
    action: str
    from_state: OrderState | None
    to_state: OrderState
    reason: str | None
    data: dict[str, object] = {}


class EventPage(BaseModel):
    """An order's audit trail, oldest first."""

    items: list[OrderEvent]
    next_cursor: str | None = None


class Task(BaseModel):
    """One order waiting on a role."""

    order_id: str
    state: OrderState
    actions: list[str]
    role: Role
    waiting_since: datetime
    due_at: datetime | None
    overdue: bool
    purchaser: str
    end_user: str
    destination: str
    total_value: Money


class TaskPage(BaseModel):
    """The work queue of a role."""

    items: list[Task]
    next_cursor: str | None = None
