"""Shared primitives: roles, actors, money and country codes."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer


class Role(StrEnum):
    """What a user may do; a user can hold several."""

    SALES_OPS = "sales_ops"
    COMPLIANCE = "compliance"
    VIEWER = "viewer"
    # Another system (ERP, warehouse, forwarder): reads orders and the change feed, manages
    # webhook subscriptions; takes no action on an order.
    INTEGRATION = "integration"


class Actor(BaseModel):
    """The authenticated person behind an action, as the API saw them."""

    model_config = ConfigDict(frozen=True)

    user: str
    roles: frozenset[Role]


# Read once at import: pycountry loads its database lazily from disk, and a first lookup inside
# the workflow sandbox (decoding a workflow input) would be refused as file IO.
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)


def _check_country(code: str) -> str:
    upper = code.upper()
    if upper not in COUNTRY_CODES:
        raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    return upper


def _check_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite amount")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("must have at most two decimal places")
    return value


CountryCode = Annotated[str, Field(examples=["CN"]), AfterValidator(_check_country)]
"""ISO 3166-1 alpha-2, upper-cased on the way in."""

Money = Annotated[
    Decimal,
    Field(max_digits=16, decimal_places=2),
    AfterValidator(_check_money),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]
"""A decimal amount in USD, serialised as a string such as "1250.00"."""


class Strict(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
