"""Seed the read model with many orders directly in SQL, for the list benchmark.

Rows are copies of a real booked order (so every column, present or future, is filled the way
exportflow fills it), with ids, times, states, destinations, names and SKUs varied.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STATES = [
    ("DELIVERED", 30),
    ("SHIPPED", 8),
    ("READY_TO_SHIP", 8),
    ("AWAITING_LICENSE", 20),
    ("COMPLIANCE_REVIEW", 10),
    ("SCREENING_REVIEW", 3),
    ("REJECTED", 6),
    ("LICENSE_DENIED", 5),
    ("CANCELLED", 8),
    ("ON_HOLD", 2),
]
DESTINATIONS = ["CN", "CN", "CN", "HK", "MO", "DE", "US", "JP", "SG", "IN", "AE", "KR"]
SKUS = ["H20", "H20", "RTX-PRO-6000D", "H100-SXM"]
WORDS = ["Shenzhen", "Pacific", "Quantum", "Lumen", "Apex", "Harbor", "Nova", "Vertex", "Orchid"]
TRADES = ["Cloud", "Data Systems", "AI Research", "Compute", "Networks", "Robotics"]
ROLE_OF = {
    "COMPLIANCE_REVIEW": "compliance",
    "SCREENING_REVIEW": "compliance",
    "AWAITING_LICENSE": "compliance",
    "ON_HOLD": "compliance",
    "READY_TO_SHIP": "sales_ops",
    "SHIPPED": "sales_ops",
}


def _template(db: sqlite3.Connection, table: str, where: str) -> dict[str, Any]:
    db.row_factory = sqlite3.Row
    row = db.execute(f"SELECT * FROM {table} WHERE {where} LIMIT 1").fetchone()  # noqa: S608
    if row is None:
        raise SystemExit(f"seed needs one real row in {table}; book an order first")
    return dict(row)


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    cols = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    db.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


def _order(
    template: dict[str, Any], line: dict[str, Any], i: int, rng: random.Random, start: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
    oid = f"ORD-SEED{i:08d}"
    at = (start + timedelta(seconds=i * 30)).strftime("%Y-%m-%d %H:%M:%S.%f")
    purchaser = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {i % 997} Co., Ltd."
    status = json.loads(template["status"])
    status["state"] = state
    order = template | {
        "id": oid,
        "external_ref": f"PO-{i:07d}",
        "idempotency_key": None,
        "created_at": at,
        "updated_at": at,
        "state_entered_at": at,
        "state": state,
        "waiting_role": ROLE_OF.get(state),
        "destination": rng.choice(DESTINATIONS),
        "purchaser_name": purchaser,
        "status": json.dumps(status),
        "workflow_started": 1,
    }
    line_row = {k: v for k, v in line.items() if k != "id"} | {
        "order_id": oid,
        "sku": rng.choice(SKUS),
    }
    return order, line_row


def seed_orders(db_file: Path, count: int, seed: int = 7) -> None:
    """Add `count` orders (and one line each) in bulk, over the last few years."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(seconds=count * 30)
    with sqlite3.connect(db_file) as db:
        template = _template(db, "orders", "id NOT LIKE 'ORD-SEED%'")
        line = _template(db, "order_lines", f"order_id = '{template['id']}'")
        for first in range(0, count, 10_000):
            pairs = [_order(template, line, i, rng, start) for i in range(first, first + 10_000)]
            _insert(db, "orders", [p[0] for p in pairs][: count - first])
            _insert(db, "order_lines", [p[1] for p in pairs][: count - first])
        db.execute("ANALYZE")
