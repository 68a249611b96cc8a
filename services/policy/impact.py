"""Impact of a rule set on the open orders, computed from the read model.

The preview (`GET /rulesets/{version}/impact`) and the activation fan-out both read open orders
here and judge each with `workflows.rules.impact.assess`, the function the order workflow
applies: what the preview shows is what activation does. Nothing here touches a workflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Text, cast
from sqlalchemy import select as core_select
from sqlmodel import Session

from schemas.catalog import Catalog
from schemas.orders import (
    BookOrderRequest,
    Determination,
    OrderState,
    ScreeningHit,
)
from schemas.rulesets import ImpactReport, ImpactTotal, LineImpact, OrderImpact, OutcomeChange
from services.db.models import OrderRow
from services.policy.lifecycle import CLOSED
from workflows.rules.determination import DeterminationFacts, determine, facts_of
from workflows.rules.impact import Assessment, OrderNow, assess

_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
# The JSON as text: parsed by pydantic's own parser straight into models (json.loads and then
# validation took twice as long on 10,000 orders).
_COLUMNS = core_select(
    _ORDERS.c.id,
    _ORDERS.c.external_ref,
    cast(_ORDERS.c.booking, Text).label("booking"),
    cast(_ORDERS.c.status, Text).label("status"),
).where(_ORDERS.c.state.not_in(CLOSED), _ORDERS.c.workflow_started.is_(True))
READ_BATCH = 1000
_RANK = {change: i for i, change in enumerate(OutcomeChange)}


@dataclass(frozen=True)
class OpenOrder:
    """An open order as the read model has it."""

    id: str
    external_ref: str | None
    booking: BookOrderRequest
    status: OrderNow


def read_open(session: Session, *, after: str | None, limit: int) -> list[OpenOrder]:
    """Open orders with ids after `after`, ascending: a cursor that survives a crash."""
    stmt = _COLUMNS.order_by(_ORDERS.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(_ORDERS.c.id > after)
    return _open_orders(session, stmt)


def read_ids(session: Session, order_ids: list[str]) -> list[OpenOrder]:
    """These orders, if they are open."""
    return _open_orders(session, _COLUMNS.where(_ORDERS.c.id.in_(order_ids)).order_by(_ORDERS.c.id))


class _ScreeningPart(BaseModel):
    hits: list[ScreeningHit] = []


class _StatusPart(BaseModel):
    """What a rule set is judged on in the stored status; the rest is skipped, not built."""

    state: OrderState
    held_from: OrderState | None = None
    held_for_import_stop: bool = False
    determination: Determination | None = None
    screening: _ScreeningPart | None = None


def _open_orders(session: Session, stmt: Any) -> list[OpenOrder]:
    rows = session.connection().execute(stmt).all()
    return [
        OpenOrder(
            id=r.id,
            external_ref=r.external_ref,
            booking=BookOrderRequest.model_validate_json(r.booking),
            status=_StatusPart.model_validate_json(r.status),
        )
        for r in rows
    ]


def every_open(session: Session, *, batch: int = READ_BATCH) -> Iterator[OpenOrder]:
    """Every open order, read in batches."""
    after: str | None = None
    while True:
        found = read_open(session, after=after, limit=batch)
        yield from found
        if len(found) < batch:
            return
        after = found[-1].id


class Determiner:
    """`determine` under one catalog as of one date, once per distinct set of order facts."""

    def __init__(self, catalog: Catalog, on: date) -> None:
        self.catalog, self.on = catalog, on
        self._seen: dict[DeterminationFacts, Determination] = {}

    def __call__(self, booking: BookOrderRequest) -> Determination:
        """The order's determination (screening is applied per order by `assess`)."""
        facts = facts_of(booking)
        found = self._seen.get(facts)
        if found is None:
            found = self._seen[facts] = determine(facts, self.catalog, None, self.on)
        return found


def assess_open(order: OpenOrder, determiner: Determiner) -> Assessment | None:
    """The order under the determiner's rules; None if it is not open after all."""
    fresh = determiner(order.booking)
    return assess(order.id, order.booking, order.status, fresh, external_ref=order.external_ref)


@dataclass
class Tally:
    """Orders, units and value."""

    orders: int = 0
    units: int = 0
    value: Decimal = Decimal(0)

    def add(self, units: int, value: Decimal) -> None:
        """Count one more order."""
        self.orders, self.units, self.value = (
            self.orders + 1,
            self.units + units,
            self.value + value,
        )


Key = tuple[OutcomeChange, str]
_STOPS = (OutcomeChange.IMPORT_STOPPED, OutcomeChange.IMPORT_STOP_LIFTED)


def _line_change(impact: OrderImpact, line: LineImpact, stopped: set[str]) -> OutcomeChange:
    """A line's change, counting a customs stop (or its end) on the SKUs it is about."""
    lifted = impact.change is OutcomeChange.IMPORT_STOP_LIFTED
    if line.change is OutcomeChange.UNCHANGED and (lifted or line.sku in stopped):
        return impact.change if impact.change in _STOPS else line.change
    return line.change


class Totals:
    """Orders, units and value by outcome change, per SKU and per destination."""

    def __init__(self) -> None:
        self.by_change: dict[Key, Tally] = {}
        self.by_sku: dict[Key, Tally] = {}
        self.by_dest: dict[Key, Tally] = {}

    def add(self, impact: OrderImpact, booking: BookOrderRequest) -> None:
        """Count one order (and each of its SKUs with that line's change, units and value)."""
        change = impact.change
        self.by_change.setdefault((change, ""), Tally()).add(impact.units, impact.value)
        dest = (change, impact.destination)
        self.by_dest.setdefault(dest, Tally()).add(impact.units, impact.value)
        stopped = {s.sku for s in impact.import_stops}
        for line in impact.lines:
            mine = [b for b in booking.lines if b.sku == line.sku]
            value = sum((b.quantity * b.unit_price for b in mine), Decimal(0))
            tally = self.by_sku.setdefault((_line_change(impact, line, stopped), line.sku), Tally())
            tally.add(sum(b.quantity for b in mine), value)

    def rows(self) -> tuple[list[ImpactTotal], list[ImpactTotal], list[ImpactTotal]]:
        """By change, by SKU, by destination: most serious change first."""

        def out(table: dict[Key, Tally], field: str | None) -> list[ImpactTotal]:
            return [
                ImpactTotal(
                    change=key[0],
                    orders=t.orders,
                    units=t.units,
                    value=t.value,
                    **({field: key[1]} if field else {}),
                )
                for key, t in sorted(table.items(), key=lambda kv: (_RANK[kv[0][0]], kv[0][1]))
            ]

        return out(self.by_change, None), out(self.by_sku, "sku"), out(self.by_dest, "destination")


def preview(
    session: Session,
    *,
    version: str,
    catalog: Catalog,
    on: date,
    include_all: bool = False,
    limit: int | None = None,
) -> ImpactReport:
    """Every open order under `catalog` on `on`, against its current determination."""
    began = time.perf_counter()
    determiner, totals = Determiner(catalog, on), Totals()
    listed: list[OrderImpact] = []
    count = changed = 0
    for order in every_open(session):
        found = assess_open(order, determiner)
        if found is None:
            continue
        count += 1
        impact = found.impact
        totals.add(impact, order.booking)
        if impact.change is not OutcomeChange.UNCHANGED:
            changed += 1
        if include_all or impact.change is not OutcomeChange.UNCHANGED:
            listed.append(impact)
    listed.sort(key=lambda i: (_RANK[i.change], i.order_id))
    if limit is not None:
        del listed[limit:]  # the most serious changes first; the totals count them all
    by_change, by_sku, by_dest = totals.rows()
    return ImpactReport(
        version=version,
        on=on,
        open_orders=count,
        changed_orders=changed,
        seconds=round(time.perf_counter() - began, 3),
        by_change=by_change,
        by_sku=by_sku,
        by_destination=by_dest,
        orders=listed,
    )
