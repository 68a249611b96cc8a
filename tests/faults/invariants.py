"""What must hold in the database after any fault: read straight from the tables.

- every order has an audit trail (at least its booking), seq 0..n without gaps or repeats,
  and its last event is the read model's state (seq included);
- nobody decided on an order they booked (approve, clear, reject, record a license);
- the license ledger and every unit of every order (`tests.faults.unit_invariants`): draws
  opened, shipped in parts and closed in order, never more reserved or shipped than a license
  line approves, each unit waiting, drawn, shipped or released, splits keeping every unit;
- nothing shipped under a license after it expired.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Engine, text

from tests.faults import unit_invariants

DECISIONS = {"approve", "clear-screening", "reject", "record-license"}
SHIPPED = {"SHIPPED", "DELIVERED"}


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _trail_problems(order: Any, events: list[Any]) -> list[str]:
    problems = []
    if not events:  # a lost trail, not an empty one: booking writes event 0
        return [f"{order.id}: no audit events at all (read model {order.state}@{order.seq})"]
    seqs = [e.seq for e in events]
    if not events:  # a lost trail, not an empty one: booking writes event 0
        return [f"{order.id}: no audit events at all (read model {order.state}@{order.seq})"]
    if seqs != list(range(len(seqs))):
        problems.append(f"{order.id}: event seqs {seqs} are not 0..n")
    if events[-1].to_state != order.state or events[-1].seq != order.seq:
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


def _expiry_problems(engine: Engine) -> list[str]:
    """Nothing shipped under a license after it expired."""
    sql = (
        "SELECT l.order_id, l.at, c.number, c.expires_on FROM license_ledger l "
        "JOIN licenses c ON c.number = l.license_number WHERE l.kind = 'commit'"
    )
    problems = []
    for r in _rows(engine, sql):
        expires = r.expires_on
        expires = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
        if str(r.at)[:10] > expires.isoformat():
            problems.append(f"{r.order_id}: shipped under {r.number} after it expired")
    return problems


def problems(engine: Engine) -> list[str]:
    """Every violated invariant, as readable lines; empty when all hold."""
    orders = _rows(
        engine,
        "SELECT id, state, seq, created_by, status, license_required, booking FROM orders",
    )
    trails: dict[str, list[Any]] = defaultdict(list)
    for e in _rows(
        engine, "SELECT order_id, seq, to_state, actor, action FROM order_events ORDER BY seq"
    ):
        trails[e.order_id].append(e)
    found: list[str] = []
    for order in orders:
        found += _trail_problems(order, trails[order.id])
    return found + unit_invariants.problems(engine, orders) + _expiry_problems(engine)


def ledger_kinds(engine: Engine, order_id: str) -> dict[str, int]:
    """How many ledger entries of each kind an order has."""
    rows = _rows(engine, f"SELECT kind FROM license_ledger WHERE order_id = '{order_id}'")
    return dict(Counter(r.kind for r in rows))
