"""Money is stored as integer cents so sums are exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def to_cents(amount: Decimal) -> int:
    """USD amount to integer cents."""
    return int((amount * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Integer cents to a USD amount with two decimals."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
