"""Manual steps: request bodies and the commands the workflow's updates receive."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.applications import ApplicationStatusBody, SubmitApplicationBody
from schemas.common import Actor, Money, Strict
from schemas.orders import HitDecision, OrderLine, Party
from schemas.shipments import ShipmentLine


class Action(StrEnum):
    """A manual step on an order; the value is the URL segment."""

    CLEAR_SCREENING = "clear-screening"
    DISPOSITION = "disposition"
    APPROVE = "approve"
    REJECT = "reject"
    RECORD_LICENSE = "record-license"
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"
    SHIP = "ship"
    DELIVER = "deliver"
    AMEND = "amend"
    SUBMIT_APPLICATION = "submit-application"
    APPLICATION_STATUS = "application-status"


class LicenseDecision(StrEnum):
    """BIS's answer to a license application."""

    APPROVED = "approved"
    DENIED = "denied"
    RETURNED = "returned"


Reason = Field(min_length=1, max_length=2000, description="Why; kept in the audit trail")


class ReasonBody(Strict):
    """Body for actions that must say why."""

    reason: str = Reason


class NoteBody(Strict):
    """Body for an approval, with an optional note."""

    note: str | None = Field(default=None, max_length=2000)
    license_required: bool | None = Field(
        default=None,
        description="the officer's determination for lines no rule decides; required then",
    )


class EmptyBody(Strict):
    """Body for actions that need no input."""


class LicenseLineTerms(Strict):
    """What BIS approved for one licensed line of the order."""

    sku: str = Field(min_length=1, max_length=64)
    approved_quantity: int = Field(gt=0, le=10_000_000)
    approved_value: Money = Field(gt=Decimal(0))


class LicenseBody(Strict):
    """Body of `record-license`.

    A license not yet recorded is created from the decision's terms: `lines`, one per
    licensed line of the order (or, when the order has one licensed line, the older
    `approved_quantity` and `approved_value`), and `expires_on`.
    """

    decision: LicenseDecision
    license_number: str | None = Field(default=None, min_length=1, max_length=40)
    lines: list[LicenseLineTerms] | None = Field(default=None, max_length=100)
    approved_quantity: int | None = Field(
        default=None, gt=0, description="one licensed line: its approved quantity"
    )
    approved_value: Money | None = Field(
        default=None, gt=Decimal(0), description="one licensed line: its approved value"
    )
    expires_on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class AmendBody(Strict):
    """Body of `amend`: why, and the booking fields that change; omitted fields stay."""

    reason: str = Reason
    lines: list[OrderLine] | None = Field(default=None, min_length=1, max_length=100)
    purchaser: Party | None = None
    end_user: Party | None = None
    ultimate_consignee: Party | None = None
    intermediate_consignees: list[Party] | None = Field(default=None, max_length=10)
    requested_ship_date: date | None = None
    end_use: str | None = Field(default=None, min_length=1, max_length=1000)


class DispositionBody(Strict):
    """Body of `disposition`: compliance's decision on one matched list entry."""

    entry_id: str = Field(min_length=1, max_length=100)
    decision: HitDecision
    reason: str = Reason
    whitelist_until: date | None = Field(
        default=None,
        description="with not_a_match: skip this entry for this party in later screenings "
        "until this date (lapses early if the entry changes in a later list snapshot)",
    )


class ShipBody(Strict):
    """Body of `ship`: carrier, tracking and the AES export filing's ITN of one shipment."""

    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)
    itn: str = Field(
        pattern=r"^X\d{14}$",
        description="Internal Transaction Number of the accepted AES filing, e.g. X20251128123456",
    )
    lines: list[ShipmentLine] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="what leaves in this shipment, per SKU; absent: all that is left",
    )


class DeliverBody(Strict):
    """Body of `deliver`: which shipment arrived (absent: every shipment not yet delivered)."""

    shipment: int | None = Field(
        default=None, ge=0, le=10_000, description="index in the order's `shipments`, from 0"
    )


class Command(BaseModel):
    """What every update carries besides its body: who asks, and what they saw."""

    actor: Actor
    # The order's `seq` in the read model when the API checked the action. A workflow behind
    # it (re-running a step whose writes landed before a worker died) answers "busy".
    read_seq: int | None = None


class ReasonCommand(ReasonBody, Command):
    """An action with a reason, as the workflow receives it."""


class NoteCommand(NoteBody, Command):
    """An approval, as the workflow receives it."""


class EmptyCommand(EmptyBody, Command):
    """An action without input, as the workflow receives it."""


class DeliverCommand(DeliverBody, Command):
    """A delivery, as the workflow receives it."""


class LicenseCommand(LicenseBody, Command):
    """A license decision, as the workflow receives it."""


class DispositionCommand(DispositionBody, Command):
    """A disposition, as the workflow receives it."""


class ShipCommand(ShipBody, Command):
    """A shipment, as the workflow receives it."""


class AmendCommand(AmendBody, Command):
    """An amendment, as the workflow receives it."""


class SubmitApplicationCommand(SubmitApplicationBody, Command):
    """A filed BIS application, as the workflow receives it."""


class ApplicationStatusCommand(ApplicationStatusBody, Command):
    """BIS's answer on an application, as the workflow receives it."""


BODY_FOR_ACTION: dict[Action, type[Strict]] = {
    Action.CLEAR_SCREENING: ReasonBody,
    Action.DISPOSITION: DispositionBody,
    Action.APPROVE: NoteBody,
    Action.REJECT: ReasonBody,
    Action.RECORD_LICENSE: LicenseBody,
    Action.HOLD: ReasonBody,
    Action.RELEASE: ReasonBody,
    Action.CANCEL: ReasonBody,
    Action.SHIP: ShipBody,
    Action.DELIVER: DeliverBody,
    Action.AMEND: AmendBody,
    Action.SUBMIT_APPLICATION: SubmitApplicationBody,
    Action.APPLICATION_STATUS: ApplicationStatusBody,
}
