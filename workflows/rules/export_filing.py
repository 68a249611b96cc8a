"""Export filing (AES/EEI) lines: per shipment line its ECCN, license code and license.

C30 lines carry the license number they draw on, C33 lines "NLR", C67 lines (License
Exception NAC after notification) "NAC". A line whose determination is undecided, or that
needs a license and has no draw, is reported missing: it cannot be filed, and `ship` refuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.filing import FilingLine, FilingParty, ShipmentFiling
from schemas.orders import BookOrderRequest, Determination, LineDetermination, Party, Shipment
from workflows.rules.shipments import shipment_lines, shipment_values

_NOT_LICENSED = {"C33": "NLR", "C67": "NAC"}

Drawn = Mapping[str | None, tuple[str, int]]
"""Per SKU (None: the whole order, drawn before lines) the license number and line held."""


def filing_parties(booking: BookOrderRequest) -> list[FilingParty]:
    """Every party of the shipment; the end user is the ultimate consignee when none is named."""

    def one(role: str, p: Party) -> FilingParty:
        return FilingParty(
            role=role,
            name=p.name,
            country=p.country,
            address=p.address,
            headquarters_country=p.headquarters_country,
        )

    parties = [one("purchaser", booking.purchaser)]
    parties.append(one("ultimate_consignee", booking.consignee()))
    parties.append(one("end_user", booking.end_user))
    parties += [one("intermediate_consignee", p) for p in booking.intermediate_consignees]
    return parties


def _line_det(det: Determination | None, sku: str) -> tuple[str | None, str | None]:
    """The line's ECCN and AES code; a determination from before lines speaks for all."""
    if det is None:
        return None, None
    found: LineDetermination | None = next((x for x in det.lines if x.sku == sku), None)
    if found is not None:
        return found.eccn, found.license_code
    return None, (det.license_code if not det.lines else None)


def filing_lines(
    booking: BookOrderRequest,
    det: Determination | None,
    drawn: Drawn,
    eccn_of: Mapping[str, str],
) -> tuple[list[FilingLine], list[str]]:
    """The filing's lines, and what is missing, one sentence per line."""
    lines, missing = [], []
    for i, line in enumerate(booking.lines, start=1):
        eccn, code = _line_det(det, line.sku)
        license, license_line = _NOT_LICENSED.get(code or ""), None
        held = drawn.get(line.sku) or drawn.get(None)
        if code is None:
            missing.append(f"line {i} ({line.sku}): not determined yet; compliance decides")
        elif code == "C30" and held is None:
            missing.append(f"line {i} ({line.sku}): needs a license and has no license draw")
        elif code == "C30" and held is not None:
            license, license_line = held[0], held[1] or None
        lines.append(
            FilingLine(
                line=i,
                sku=line.sku,
                eccn=eccn or eccn_of.get(line.sku, ""),
                license_code=code,
                license=license,
                license_line=license_line,
                quantity=line.quantity,
                value=line.unit_price * line.quantity,
            )
        )
    return lines, missing


Committed = Mapping[tuple[str, str | None], tuple[str, int]]
"""Per (ITN, SKU) (SKU None: a whole-order draw) the license number and line it shipped on."""


def shipment_filings(
    booking: BookOrderRequest,
    det: Determination | None,
    shipments: list[Shipment],
    committed: Committed,
    eccn_of: Mapping[str, str],
) -> list[ShipmentFiling]:
    """Each shipment's filing lines: what it took per SKU, at its value, under which license."""
    filings = []
    first_line: dict[str, int] = {}
    for i, line in enumerate(booking.lines, start=1):
        first_line.setdefault(line.sku, i)
    for n, s in enumerate(shipments):
        before = shipments[:n]
        lines = s.lines or shipment_lines(booking, before, None)
        values = shipment_values(booking, before, lines)
        filed = []
        for taken in lines:
            eccn, code = _line_det(det, taken.sku)
            license = _NOT_LICENSED.get(code or "")
            held = committed.get((s.itn, taken.sku)) or committed.get((s.itn, None))
            if code == "C30" and held is not None:
                license = held[0]
            filed.append(
                FilingLine(
                    line=first_line.get(taken.sku, 0),
                    sku=taken.sku,
                    eccn=eccn or eccn_of.get(taken.sku, ""),
                    license_code=code,
                    license=license,
                    license_line=held[1] if held and code == "C30" else None,
                    quantity=taken.quantity,
                    value=values[taken.sku],
                )
            )
        filings.append(
            ShipmentFiling(
                shipment=n,
                itn=s.itn,
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                shipped_at=s.shipped_at,
                lines=filed,
            )
        )
    return filings
