"""Inputs and records exchanged between the order workflow and its activities."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from schemas.common import Money
from schemas.orders import (
    BookOrderRequest,
    Determination,
    LicenseAllocation,
    OrderState,
    OrderStatus,
    Party,
    ScreeningResult,
)


class OrderInput(BaseModel):
    """Start input of the order workflow."""

    order_id: str
    booked_by: str
    booked_at: datetime
    booking: BookOrderRequest


class TransitionRecord(BaseModel):
    """One audit event plus the read-model status after it; idempotent by (order_id, seq)."""

    order_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    from_state: OrderState | None
    to_state: OrderState
    reason: str | None = None
    data: dict[str, object] = {}
    status: OrderStatus


class ScreenRequest(BaseModel):
    """Parties of one order to screen."""

    order_id: str
    parties: dict[str, Party]


class DetermineRequest(BaseModel):
    """What license determination needs."""

    order_id: str
    booking: BookOrderRequest
    screening: ScreeningResult


class AllocateRequest(BaseModel):
    """Draw an order's quantity and value on a license, creating the license on first use."""

    order_id: str
    license_number: str
    approved_quantity: int
    approved_value: Money
    expires_on: date
    quantity: int
    value: Money
    actor: str


class ReleaseRequest(BaseModel):
    """Give back what an order drew on its license."""

    order_id: str
    actor: str
    reason: str


class WorkflowResult(BaseModel):
    """What the order workflow returns when it ends."""

    order_id: str
    state: OrderState
    determination: Determination | None = None
    license: LicenseAllocation | None = None
