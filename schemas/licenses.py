"""Licenses as BIS issues them: lines, named parties, and a ledger of what orders draw."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from schemas.common import CountryCode, Money, Strict
from schemas.license_actions import LicenseActionView, LicenseStatus
from schemas.orders import Party


class ObligationIn(Strict):
    """A license condition: a report, an end-use statement, a revenue share."""

    code: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=2000)
    owner: str = Field(default="", max_length=100)
    due_on: date | None = None
    blocking: bool = Field(default=True, description="an open blocking obligation stops `ship`")


class LicenseLineIn(Strict):
    """One item line of a license: an SKU or an ECCN, with its own approved quantity and value."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    eccn: str | None = Field(default=None, min_length=1, max_length=20, examples=["3A090.a"])
    approved_quantity: int = Field(gt=0, le=10_000_000)
    approved_value: Money = Field(gt=Decimal(0))

    @model_validator(mode="after")
    def _names_an_item(self) -> LicenseLineIn:
        if not self.sku and not self.eccn:
            raise ValueError("a license line names its item: give sku or eccn")
        return self


class LicenseParties(BaseModel):
    """The parties a license names; it authorises exports to them and to no one else."""

    ultimate_consignee: Party | None = None
    end_user: Party | None = Field(
        default=None, description="absent: the ultimate consignee is the end user"
    )
    intermediate_consignees: list[Party] = []

    def named_end_user(self) -> Party | None:
        """The end user, or the ultimate consignee when the license names no other."""
        return self.end_user or self.ultimate_consignee


class LicenseCreate(Strict):
    """Body of `POST /licenses`: a BIS license that may cover several orders.

    The older body (`skus`, one `approved_quantity` and `approved_value`, `consignee` as a
    name) is still taken where it is unambiguous: a single SKU becomes one line, and
    `consignee` is the ultimate consignee, in the destination country.
    """

    license_number: str = Field(min_length=1, max_length=40)
    application_control_number: str | None = Field(
        default=None, pattern=r"^[A-Z]\d{6}$", description="SNAP-R, e.g. Z123456"
    )
    licensee: str = Field(min_length=1, max_length=200)
    ultimate_consignee: Party | None = None
    consignee: str = Field(
        default="", max_length=200, description="older form: the ultimate consignee's name"
    )
    end_user: Party | None = Field(
        default=None, description="absent: the ultimate consignee is the end user"
    )
    intermediate_consignees: list[Party] = Field(default=[], max_length=10)
    destination: CountryCode
    lines: list[LicenseLineIn] = Field(default=[], max_length=50)
    skus: list[str] | None = Field(default=None, max_length=20, description="older form")
    approved_quantity: int | None = Field(default=None, gt=0, description="older form")
    approved_value: Money | None = Field(default=None, gt=Decimal(0), description="older form")
    valid_from: date | None = None
    expires_on: date
    conditions: list[ObligationIn] = Field(default=[], max_length=50)

    @model_validator(mode="after")
    def _unambiguous(self) -> LicenseCreate:
        if self.valid_from and self.valid_from > self.expires_on:
            raise ValueError("valid_from must not be after expires_on")
        self.license_lines()  # raises when the lines are ambiguous
        self.parties()
        return self

    def license_lines(self) -> list[LicenseLineIn]:
        """The license's lines; the older single-SKU form becomes one line."""
        older = (self.skus, self.approved_quantity, self.approved_value) != (None, None, None)
        if self.lines and older:
            raise ValueError(
                "lines: give lines, or skus with approved_quantity and "
                "approved_value (older form), not both"
            )
        lines = self.lines or self._older_line()
        seen: set[str] = set()
        for line in lines:
            key = f"SKU {line.sku}" if line.sku else f"ECCN {line.eccn}"
            if key in seen:
                raise ValueError(f"lines: {key} is on two lines; give one line per item")
            seen.add(key)
        return lines

    def _older_line(self) -> list[LicenseLineIn]:
        skus = list(dict.fromkeys(self.skus or []))
        if len(skus) > 1:
            raise ValueError(
                f"lines: several SKUs ({', '.join(skus)}) with one approved quantity and value "
                "would pool them; give one line per SKU with its own approved_quantity and "
                "approved_value"
            )
        if not skus or self.approved_quantity is None or self.approved_value is None:
            raise ValueError(
                "lines: give the license's lines (sku or eccn, approved_quantity, approved_value)"
            )
        return [
            LicenseLineIn(
                sku=skus[0],
                approved_quantity=self.approved_quantity,
                approved_value=self.approved_value,
            )
        ]

    def parties(self) -> LicenseParties:
        """The named parties; the older `consignee` name is the ultimate consignee."""
        if self.ultimate_consignee and self.consignee:
            raise ValueError("ultimate_consignee: give ultimate_consignee or consignee, not both")
        consignee = self.ultimate_consignee
        if consignee is None and self.consignee:
            consignee = Party(name=self.consignee, country=self.destination)
        if consignee is None:
            raise ValueError("ultimate_consignee: a license names its ultimate consignee")
        if consignee.country != self.destination:
            raise ValueError(
                f"ultimate_consignee.country: the ultimate consignee is in {consignee.country}, "
                f"the license's destination is {self.destination}"
            )
        return LicenseParties(
            ultimate_consignee=consignee,
            end_user=self.end_user,
            intermediate_consignees=list(self.intermediate_consignees),
        )


class LedgerEntry(BaseModel):
    """One movement on a license line."""

    kind: str = Field(description="reserve, commit or release")
    order_id: str
    line: int = Field(description="the license line it moves")
    sku: str | None = Field(description="the order's item; None: a whole order, before lines")
    quantity: int
    value: Money
    actor: str
    reason: str | None
    itn: str | None
    at: datetime


class ObligationView(BaseModel):
    """A condition of the license and whether it is met."""

    id: int
    code: str
    text: str
    owner: str
    due_on: date | None
    blocking: bool
    fulfilled_by: str | None
    fulfilled_at: datetime | None


class LicenseOrder(BaseModel):
    """One order's draw on a license, derived from the ledger."""

    order_id: str
    skus: list[str] = []
    quantity: int
    value: Money
    released: bool
    shipped: bool = Field(description="every unit drawn has shipped")
    shipped_quantity: int = Field(default=0, description="units shipped so far (in parts)")
    allocated_at: datetime


class LicenseLineView(BaseModel):
    """A license line with what is approved, drawn, shipped and left on it."""

    line: int
    sku: str | None
    eccn: str | None
    approved_quantity: int
    approved_value: Money
    allocated_quantity: int
    allocated_value: Money
    shipped_quantity: int
    shipped_value: Money
    remaining_quantity: int
    remaining_value: Money
    pooled_skus: list[str] | None = Field(
        default=None,
        description="a line migrated from a pooled license (these SKUs shared one quantity): "
        "its orders ship or release as before, it takes no new draws",
    )


class LicenseView(BaseModel):
    """A license: terms, parties, lines, and what is drawn and left, from its ledger."""

    number: str
    application_control_number: str | None
    licensee: str
    ultimate_consignee: Party | None
    end_user: Party | None
    intermediate_consignees: list[Party]
    consignee: str = Field(description="the ultimate consignee's name (older field)")
    destination: str | None
    skus: list[str] = Field(description="the SKUs of its lines (older field)")
    lines: list[LicenseLineView]
    approved_quantity: int = Field(description="sum over the lines")
    approved_value: Money
    allocated_quantity: int
    allocated_value: Money
    shipped_quantity: int
    shipped_value: Money
    remaining_quantity: int
    remaining_value: Money
    valid_from: date | None
    expires_on: date
    recorded_by: str
    recorded_at: datetime
    orders: list[LicenseOrder]
    ledger: list[LedgerEntry]
    obligations: list[ObligationView]
    status: LicenseStatus = LicenseStatus.ACTIVE
    status_reason: str | None = None
    actions: list[LicenseActionView] = Field(
        default=[],
        description="suspensions, reinstatements and revocations, newest first, each with "
        "its progress (done of total orders) and one result line per order",
    )


class LicenseSummary(BaseModel):
    """A license in a list."""

    number: str
    licensee: str
    destination: str | None
    lines: int = Field(description="how many item lines")
    approved_quantity: int
    allocated_quantity: int
    remaining_quantity: int
    approved_value: Money
    remaining_value: Money
    expires_on: date
    status: LicenseStatus = LicenseStatus.ACTIVE


class LicensePage(BaseModel):
    """A page of licenses."""

    items: list[LicenseSummary]
    next_cursor: str | None = None
