"""Where every unit of every order is, read straight from the tables: the ledger invariants.

- per order, license line and item the ledger is a sequence of draws: a reserve opens one,
  commits (shipments) take at most what it reserved, a release gives back exactly what has not
  shipped and closes it; nothing moves on a draw that is not open;
- no license line has more reserved (net of releases) than it approves, and never more shipped
  than it approves;
- every unit of an order is in exactly one of: waiting (for a draw or for shipment), drawn,
  shipped, released: per order and licensed item the units drawn (reserved, not shipped) and
  shipped never exceed what the order asks; the order's shipments and the ledger's commits
  agree; a cancelled, rejected or denied order holds no draw; a shipped order has shipped
  every unit; an order ready to ship holds a draw for every licensed unit still to ship;
- a split keeps every unit: what the original kept plus the remainder is what it asked, and
  the remainder's order starts with exactly the remainder.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

CLOSED = {"CANCELLED", "REJECTED", "LICENSE_DENIED"}
SHIPPED = {"SHIPPED", "DELIVERED"}


def rows(engine: Engine, sql: str) -> list[Any]:
    """Rows of a query."""
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Draw:
    """One order's draws on one license line for one item, replayed from the ledger."""

    reserved: int = 0  # of the open reservation
    shipped_now: int = 0  # of the open reservation
    open: bool = False
    shipped: int = 0  # over all reservations
    problems: list[str] = field(default_factory=list)


def _replay(entries: list[Any]) -> dict[tuple[str, int, str | None], Draw]:
    draws: dict[tuple[str, int, str | None], Draw] = defaultdict(Draw)
    for e in entries:
        d = draws[(e.order_id, e.line_id, e.sku)]
        where = f"{e.order_id} line {e.line_id} {e.sku}: {e.kind} {e.quantity}"
        if e.kind == "reserve":
            if d.open:
                d.problems.append(f"{where} while a reservation is open")
            d.reserved, d.shipped_now, d.open = e.quantity, 0, True
        elif not d.open:
            d.problems.append(f"{where} without an open reservation")
        elif e.kind == "commit":
            d.shipped_now += e.quantity
            d.shipped += e.quantity
            if d.shipped_now > d.reserved:
                d.problems.append(f"{where}: more shipped than reserved ({d.reserved})")
        elif e.kind == "release":
            if e.quantity != d.reserved - d.shipped_now:
                left = d.reserved - d.shipped_now
                d.problems.append(f"{where}: gives back other than the {left} not shipped")
            d.open = False
    return draws


def _line_problems(engine: Engine, entries: list[Any]) -> list[str]:
    reserved: Counter[int] = Counter()
    shipped: Counter[int] = Counter()
    for e in entries:
        sign = {"reserve": 1, "release": -1}.get(e.kind, 0)
        reserved[e.line_id] += sign * e.quantity
        shipped[e.line_id] += e.quantity if e.kind == "commit" else 0
    problems = []
    sql = "SELECT id, license_number, line_no, approved_quantity FROM license_lines"
    for line in rows(engine, sql):
        name = f"license {line.license_number} line {line.line_no}"
        if reserved[line.id] > line.approved_quantity:
            problems.append(f"{name}: {reserved[line.id]} reserved of {line.approved_quantity}")
        if shipped[line.id] > line.approved_quantity:
            problems.append(f"{name}: {shipped[line.id]} shipped of {line.approved_quantity}")
    return problems


def _licensed(status: dict[str, Any], skus: list[str]) -> list[str]:
    det = status.get("determination") or {}
    lines = det.get("lines") or []
    if not lines:
        return skus if det.get("license_required") else []
    return [x["sku"] for x in lines if x.get("license_required")]


def _status_shipped(booking: dict[str, Any], status: dict[str, Any]) -> Counter[str]:
    shipments = status.get("shipments") or ([status["shipment"]] if status.get("shipment") else [])
    gone: Counter[str] = Counter()
    for s in shipments:
        if not s.get("lines"):  # from before partial shipments: the whole order
            return Counter(_ordered(booking))
        for line in s["lines"]:
            gone[line["sku"]] += line["quantity"]
    return gone


def _ordered(booking: dict[str, Any]) -> Counter[str]:
    asked: Counter[str] = Counter()
    for line in booking["lines"]:
        asked[line["sku"]] += line["quantity"]
    return asked


def _order_problems(order: Any, draws: dict[tuple[str, int, str | None], Draw]) -> list[str]:
    booking, status = _json(order.booking), _json(order.status)
    asked, gone = _ordered(booking), _status_shipped(booking, status)
    mine = {k: d for k, d in draws.items() if k[0] == order.id}
    if any(k[2] is None for k in mine):
        return []  # drawn whole before license lines: units are not itemised
    problems = []
    for sku in _licensed(status, sorted(asked)):
        held = [d for k, d in mine.items() if k[2] == sku]
        drawn = sum(d.reserved - d.shipped_now for d in held if d.open)
        committed = sum(d.shipped for d in held)
        where = f"{order.id} {sku} ({order.state})"
        if committed != gone[sku]:
            problems.append(f"{where}: {gone[sku]} shipped, {committed} committed on licenses")
        if drawn + gone[sku] > asked[sku]:
            problems.append(f"{where}: {drawn} drawn + {gone[sku]} shipped of {asked[sku]} asked")
        if order.state in CLOSED and drawn:
            problems.append(f"{where}: still holds {drawn} drawn")
        if order.state == "READY_TO_SHIP" and drawn != asked[sku] - gone[sku]:
            problems.append(f"{where}: {drawn} drawn for {asked[sku] - gone[sku]} to ship")
    if order.state in SHIPPED and any(gone[s] != n for s, n in asked.items()):
        problems.append(f"{order.id} {order.state}: shipped {dict(gone)} of {dict(asked)}")
    return problems


def _split_problems(engine: Engine) -> list[str]:
    sql = "SELECT order_id, action, data FROM order_events WHERE action IN "
    sql += "('record-license', 'split-from')"
    splits, firsts = {}, {}
    for e in rows(engine, sql):
        data = _json(e.data)
        if e.action == "record-license" and data.get("split_into"):
            splits[data["split_into"]] = data
        elif e.action == "split-from":
            firsts[e.order_id] = data
    problems = []
    for child, data in splits.items():
        kept = _ordered({"lines": data.get("kept", [])})
        rest = _ordered({"lines": data["remainder"]})
        asked = Counter(data.get("asked", {}))
        if kept + rest != asked:
            problems.append(f"{child}: kept {dict(kept)} + remainder {dict(rest)} != {asked}")
        first = firsts.get(child)
        if first is None or _ordered(first) != rest:
            problems.append(f"{child}: does not start with the remainder {dict(rest)}")
    return problems


def problems(engine: Engine, orders: list[Any]) -> list[str]:
    """Every violated ledger and unit invariant; `orders` with id, state, booking, status."""
    entries = rows(
        engine,
        "SELECT order_id, line_id, sku, kind, quantity FROM license_ledger ORDER BY id",
    )
    draws = _replay(entries)
    found = [p for d in draws.values() for p in d.problems]
    found += _line_problems(engine, entries)
    for order in orders:
        found += _order_problems(order, draws)
    return found + _split_problems(engine)
