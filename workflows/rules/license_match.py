"""Whether an order may draw on a license: its parties, destination and items must match.

A license authorises the parties and items it names and nothing else (EAR 750.7): another
customer's order cannot draw on it, and each item draws on its own line. Names are compared
as screening compares them (`normalize_name`: case, punctuation and legal forms such as
"Co., Ltd." do not count), countries exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.licenses import LicenseParties
from schemas.orders import Party
from schemas.workflow_io import DrawLine
from workflows.rules.matching import normalize_name


@dataclass(frozen=True)
class LicenseLine:
    """A license line as matching needs it."""

    line: int
    sku: str | None
    eccn: str | None
    pooled_skus: tuple[str, ...] | None = None  # a migrated pooled line: no new draws


def same_party(a: Party, b: Party) -> bool:
    """One party: the same normalised name in the same country."""
    return a.country == b.country and normalize_name(a.name) == normalize_name(b.name)


def _named(party: Party) -> str:
    return f"'{party.name}' ({party.country})"


def party_mismatches(
    number: str,
    licensed: LicenseParties,
    destination: str | None,
    order: LicenseParties,
    order_destination: str,
) -> list[str]:
    """What the order names that the license does not, one sentence each; empty: they match."""
    found = []
    if destination != order_destination:
        found.append(
            f"license {number} is for {destination or 'no destination'}, not {order_destination}"
        )
    found += _role(
        number, "ultimate consignee", licensed.ultimate_consignee, order.ultimate_consignee
    )
    found += _role(number, "end user", licensed.named_end_user(), order.end_user)
    for party in order.intermediate_consignees:
        if not any(same_party(party, p) for p in licensed.intermediate_consignees):
            found.append(f"license {number} does not name intermediate consignee {_named(party)}")
    return found


def _role(number: str, role: str, licensed: Party | None, order: Party | None) -> list[str]:
    if order is None:
        return []
    if licensed is None:
        return [f"license {number} names no {role}; the order's is {_named(order)}"]
    if same_party(licensed, order):
        return []
    return [f"license {number} names {role} {_named(licensed)}, the order {_named(order)}"]


def line_for(number: str, lines: Sequence[LicenseLine], draw: DrawLine) -> LicenseLine | str:
    """The license line an item draws on (its SKU's, else its ECCN's), or why there is none."""
    live = [line for line in lines if line.pooled_skus is None]
    for line in live:
        if line.sku == draw.sku:
            return line
    if draw.eccn:
        for line in live:
            if line.sku is None and line.eccn and line.eccn.upper() == draw.eccn.upper():
                return line
    for line in lines:
        if line.pooled_skus is not None and (not line.pooled_skus or draw.sku in line.pooled_skus):
            pooled = ", ".join(line.pooled_skus) or "every item"
            return (
                f"license {number} line {line.line} pools {pooled} under one quantity (recorded "
                f"before licenses had lines) and takes no new draws; {draw.sku} has no line "
                "of its own"
            )
    eccn = f" (ECCN {draw.eccn})" if draw.eccn else ""
    return f"license {number} has no line for {draw.sku}{eccn}"
