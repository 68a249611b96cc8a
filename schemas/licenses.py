"""Licenses as the API shows them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from schemas.common import Money


class LicenseOrder(BaseModel):
    """One order's draw on a license."""

    order_id: str
    quantity: int
    value: Money
    released: bool
    allocated_at: datetime


class LicenseView(BaseModel):
    """A license with what is approved, drawn and left."""

    number: str
    approved_quantity: int
    approved_value: Money
    allocated_quantity: int
    allocated_value: Money
    remaining_quantity: int
    remaining_value: Money
    expires_on: date
    recorded_by: str
    recorded_at: datetime
    orders: list[LicenseOrder]
