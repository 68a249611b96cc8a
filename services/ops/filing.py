"""The export filing (AES/EEI) lines of an order, for the forwarder and the order's page."""

from __future__ import annotations

from sqlmodel import Session

from schemas.filing import ExportFiling
from schemas.orders import BookOrderRequest, OrderStatus
from services.db import license_holdings, orders_repo
from services.ops.errors import NotFound
from services.ops.state import AppState
from workflows.catalog import load_catalog
from workflows.rules.export_filing import filing_lines, filing_parties, shipment_filings


def export_filing(session: Session, order_id: str) -> ExportFiling | None:
    """The filing as the order stands: its parties, and per line its code and license."""
    row = orders_repo.get_order(session, order_id)
    if row is None:
        return None
    booking = BookOrderRequest.model_validate(row.booking)
    status = OrderStatus.model_validate(row.status)
    drawn = license_holdings.drawn_lines(session, order_id=order_id)
    eccns = {sku: p.eccn for sku, p in load_catalog().products.items()}
    lines, missing = filing_lines(booking, status.determination, drawn, eccns)
    committed = license_holdings.committed_by_itn(session, order_id=order_id)
    shipments = shipment_filings(
        booking, status.determination, status.all_shipments(), committed, eccns
    )
    return ExportFiling(
        order_id=row.id,
        state=row.state,
        ship_from=booking.ship_from,
        destination=booking.consignee().country,
        itn=status.shipment.itn if status.shipment else None,
        parties=filing_parties(booking),
        lines=lines,
        complete=not missing,
        missing=missing,
        shipments=shipments,
    )


async def filing(state: AppState, order_id: str) -> ExportFiling:
    """`export_filing` on the asyncio driver; NotFound for an unknown order."""
    found = await state.read(lambda session: export_filing(session, order_id))
    if found is None:
        raise NotFound(f"no order {order_id}")
    return found
