"""Licenses as the API shows them: terms, ledger and obligations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from schemas.common import CountryCode, Money, Strict


class ObligationIn(Strict):
    """A license condition: a report, an end-use statement, a revenue share."""

    code: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=2000)
    owner: str = Field(default="", max_length=100)
    due_on: date | None = None
    blocking: bool = Field(default=True, description="an open blocking obligation stops `ship`")


class LicenseCreate(Strict):
    """Body of `POST /licenses`: a BIS license that may cover several orders."""

    license_number: str = Field(min_length=1, max_length=40)
    application_control_number: str | None = Field(
        default=None, pattern=r"^[A-Z]\d{6}$", description="SNAP-R, e.g. Z123456"
    )
    licensee: str = Field(min_length=1, max_length=200)
    consignee: str = Field(default="", max_length=200)
    destination: CountryCode
    skus: list[str] = Field(min_length=1, max_length=20)
    approved_quantity: int = Field(gt=0)
    approved_value: Money = Field(gt=Decimal(0))
    valid_from: date | None = None
    expires_on: date
    conditions: list[ObligationIn] = Field(default=[], max_length=50)

    @model_validator(mode="after")
    def _dates_in_order(self) -> LicenseCreate:
        if self.valid_from and self.valid_from > self.expires_on:
            raise ValueError("valid_from must not be after expires_on")
        return self


class LedgerEntry(BaseModel):
    """One movement on a license."""

    kind: str = Field(description="reserve, commit or release")
    order_id: str
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
    quantity: int
    value: Money
    released: bool
    shipped: bool
    allocated_at: datetime


class LicenseView(BaseModel):
    """A license with what is approved, drawn and left, derived from its ledger."""

    number: str
    application_control_number: str | None
    licensee: str
    consignee: str
    destination: str | None
    skus: list[str]
    approved_quantity: int
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


class LicenseSummary(BaseModel):
    """A license in a list."""

    number: str
    licensee: str
    destination: str | None
    approved_quantity: int
    allocated_quantity: int
    remaining_quantity: int
    approved_value: Money
    remaining_value: Money
    expires_on: date


class LicensePage(BaseModel):
    """A page of licenses."""

    items: list[LicenseSummary]
    next_cursor: str | None = None
