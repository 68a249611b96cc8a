"""What must hold in the database after any fault: read straight from the tables.

- the audit trail of every order is seq 0..n without gaps or repeats, and its last event is
  the read model's state (seq included);
- nobody decided on an order they booked (approve, clear, reject, record a license);
- per order and license line at most one reserve, one commit and one release on the license
  ledger, and a release or commit only after a reserve;
- no license line has more reserved (net of releases) than it approves;
- an order shipped under a license has its reservation committed, not released, and the
  license had not expired when it shipped.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Engine, text

DECISIONS = {"approve", "clear-screening", "reject", "record-license"}
SHIPPED = {"SHIPPED", "DELIVERED"}


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _trail_problems(order: Any, events: list[Any]) -> list[str]:
    problems = []
    seqs = [e.seq for e in events]
    if seqs != list(range(len(seqs))):
        problems.append(f"{order.id}: event seqs {seqs} are not 0..n")
    if events and (events[-1].to_state != order.state or events[-1].seq != order.seq):
        last = events[-1]
        problems.append(
            f"{order.id}: read model {order.state}@{order.seq}, trail {last.to_state}@{last.seq}"
        )
    for e in events:
        if e.action in DECISIONS and e.actor == order.created_by:
            problems.append(f"{order.id}: {e.action} by its booker {e.actor}")
    status = order.status if isinstance(order.status, dict) else json.loads(order.status)
    for approval in status.get("approvals", []):
        if approval.get("by") == order.created_by:
            problems.append(f"{order.id}: approved by its booker")
    return problems


def _ledger_problems(engine: Engine) -> tuple[list[str], dict[str, Counter[str]]]:
    problems: list[str] = []
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    per_line: dict[tuple[str, int, str | None], Counter[str]] = defaultdict(Counter)
    reserved: Counter[int] = Counter()
    sql = "SELECT order_id, line_id, sku, kind, quantity FROM license_ledger"
    for e in _rows(engine, sql):
        kinds[e.order_id][e.kind] += 1
        per_line[(e.order_id, e.line_id, e.sku)][e.kind] += 1
        if e.kind == "reserve":
            reserved[e.line_id] += e.quantity
        elif e.kind == "release":
            reserved[e.line_id] -= e.quantity
    for (order_id, line_id, _), count in per_line.items():
        if any(n > 1 for n in count.values()):
            problems.append(f"{order_id}: ledger entries duplicated on line {line_id} {count}")
        if (count["commit"] or count["release"]) and not count["reserve"]:
            problems.append(f"{order_id}: commit/release without a reservation")
    sql = "SELECT id, license_number, line_no, approved_quantity FROM license_lines"
    for line in _rows(engine, sql):
        if reserved[line.id] > line.approved_quantity:
            problems.append(
                f"license {line.license_number} line {line.line_no}: {reserved[line.id]} "
                f"reserved of {line.approved_quantity}"
            )
    return problems, kinds


def _shipment_problems(
    engine: Engine, orders: list[Any], kinds: dict[str, Counter[str]]
) -> list[str]:
    problems = []
    expiry = {
        r.order_id: r.expires_on
        for r in _rows(
            engine,
            "SELECT l.order_id, c.expires_on FROM license_ledger l "
            "JOIN licenses c ON c.number = l.license_number WHERE l.kind = 'reserve'",
        )
    }
    ship_at = {
        r.order_id: r.at
        for r in _rows(engine, "SELECT order_id, at FROM order_events WHERE action = 'ship'")
    }
    for order in orders:
        if order.state not in SHIPPED or not order.license_required:
            continue
        count = kinds.get(order.id, Counter())
        if not count["commit"] or count["reserve"] <= count["release"]:
            problems.append(f"{order.id}: shipped without a valid license draw {dict(count)}")
            continue
        expires = expiry[order.id]
        expires = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
        if str(ship_at[order.id])[:10] > expires.isoformat():
            problems.append(f"{order.id}: shipped after its license expired")
    return problems


def problems(engine: Engine) -> list[str]:
    """Every violated invariant, as readable lines; empty when all hold."""
    orders = _rows(
        engine, "SELECT id, state, seq, created_by, status, license_required FROM orders"
    )
    trails: dict[str, list[Any]] = defaultdict(list)
    for e in _rows(
        engine, "SELECT order_id, seq, to_state, actor, action FROM order_events ORDER BY seq"
    ):
        trails[e.order_id].append(e)
    found: list[str] = []
    for order in orders:
        found += _trail_problems(order, trails[order.id])
    ledger, kinds = _ledger_problems(engine)
    return found + ledger + _shipment_problems(engine, orders, kinds)


def ledger_kinds(engine: Engine, order_id: str) -> dict[str, int]:
    """How many ledger entries of each kind an order has."""
    rows = _rows(engine, f"SELECT kind FROM license_ledger WHERE order_id = '{order_id}'")
    return dict(Counter(r.kind for r in rows))
