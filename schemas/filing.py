"""The export filing (AES/EEI) lines of an order, as a forwarder files them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import Money


class FilingParty(BaseModel):
    """A party of the shipment, with its country."""

    role: str = Field(
        description="purchaser, ultimate_consignee, end_user or intermediate_consignee"
    )
    name: str
    country: str
    address: str = ""
    headquarters_country: str | None = None


class FilingLine(BaseModel):
    """One shipment line of the filing."""

    line: int = Field(description="the order line, from 1")
    sku: str
    eccn: str
    license_code: str | None = Field(
        description="C30 (BIS license), C33 (no license required), C67 (NAC notification); "
        "None while undecided"
    )
    license: str | None = Field(
        description="the license number for C30, NLR for C33, NAC for C67; None while missing"
    )
    license_line: int | None = Field(default=None, description="the license line drawn on")
    quantity: int
    value: Money


class ShipmentFiling(BaseModel):
    """The filing of one shipment: its ITN and the lines that left under it."""

    shipment: int = Field(description="index in the order's shipments, from 0")
    itn: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: list[FilingLine]


class ExportFiling(BaseModel):
    """What the forwarder needs to file: the parties and one line per shipment line."""

    order_id: str
    state: str
    ship_from: str
    destination: str
    itn: str | None = Field(description="once shipped: the accepted filing's ITN")
    parties: list[FilingParty]
    lines: list[FilingLine]
    complete: bool = Field(description="every line has its code and license (or NLR)")
    missing: list[str] = Field(description="what keeps a line from being filed, per line")
    shipments: list[ShipmentFiling] = Field(
        default=[], description="per shipment that has left: its ITN and what it carried"
    )
