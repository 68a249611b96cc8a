"""Shipments of an order (whole or in parts), and where a split order came from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import Strict


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
