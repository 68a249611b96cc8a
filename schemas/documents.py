"""Documents uploaded to an order: evidence for license conditions and rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

KIND_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class DocumentView(BaseModel):
    """A stored document, without its content."""

    id: str
    order_id: str
    filename: str
    kind: str
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime


class DocumentList(BaseModel):
    """An order's documents, oldest first."""

    items: list[DocumentView]


class EvidenceRequirement(BaseModel):
    """A document of `kind` that must be on the order before goods leave."""

    kind: str = Field(pattern=KIND_PATTERN)
    text: str
    per_shipment: bool = Field(
        default=False, description="a new document for every shipment (e.g. a lab test report)"
    )
