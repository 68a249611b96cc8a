"""Seed the read model with many orders directly in SQL, for the list benchmark.

Rows are copies of a real booked order (so every column, present or future, is filled the way
exportflow fills it), with ids, times, states, destinations, names and SKUs varied. Works on
SQLite and PostgreSQL alike (SQLAlchemy Core, batched inserts).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, create_engine, select, text

from services.db.models import OrderLineRow, OrderRow

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
ORDERS: Table = OrderRow.__table__  # type: ignore[attr-defined]
LINES: Table = OrderLineRow.__table__  # type: ignore[attr-defined]
BATCH = 5_000


def _templates(conn: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    order = conn.execute(select(ORDERS).where(~ORDERS.c.id.like("ORD-SEED%")).limit(1)).first()
    if order is None:
        raise SystemExit("seed needs one real order; book an order first")
    line = conn.execute(select(LINES).where(LINES.c.order_id == order.id).limit(1)).first()
    assert line is not None
    return dict(order._mapping), {k: v for k, v in line._mapping.items() if k != "id"}


def _order(
    template: dict[str, Any], line: dict[str, Any], i: int, rng: random.Random, start: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
    oid = f"ORD-SEED{i:08d}"
    at = start + timedelta(seconds=i * 30)
    purchaser = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {i % 997} Co., Ltd."
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
        "status": template["status"] | {"state": state},
        "workflow_started": True,
    }
    return order, line | {"order_id": oid, "sku": rng.choice(SKUS)}


def seed_orders(url: str, count: int, seed: int = 7) -> None:
    """Add `count` orders (and one line each) in bulk, over the last few years."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(seconds=count * 30)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            template, line = _templates(conn)
            for first in range(0, count, BATCH):
                size = min(BATCH, count - first)
                pairs = [_order(template, line, first + i, rng, start) for i in range(size)]
                conn.execute(ORDERS.insert(), [p[0] for p in pairs])
                conn.execute(LINES.insert(), [p[1] for p in pairs])
        with engine.connect() as conn:  # fresh planner statistics for the lists
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()
