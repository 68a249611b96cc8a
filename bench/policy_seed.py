"""Open orders written straight into the read model, as the workflow would have left them.

Each order is booked with `insert_order` (the API's own booking) and then given the status a
workflow writes after screening and determination under the bundled rule set: the same
`determine`, a clean screening, and a state among the open ones. No workflow runs: this is for
measuring the impact preview, which reads the read model only.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from schemas.orders import (
    BookOrderRequest,
    OrderState,
    OrderStatus,
    ScreeningResult,
    ScreeningStatus,
)
from services.db import orders_repo
from services.db.engine import SessionFactory
from services.db.models import OrderRow
from workflows.catalog import load_catalog
from workflows.rules.determination import determine, facts_of
from workflows.rules.transitions import waiting_for

SKUS = [("H20", "12000.00"), ("H20", "12000.00"), ("RTX-PRO-6000D", "8500.00"),
        ("H100-SXM", "25000.00"), ("H200", "30000.00")]  # fmt: skip
DESTINATIONS = ["CN", "CN", "CN", "HK", "MO", "SG", "AE", "DE", "JP", "IN", "VN"]
PARENTS = [None, None, None, "CN"]
STATES = [OrderState.COMPLIANCE_REVIEW, OrderState.AWAITING_LICENSE, OrderState.READY_TO_SHIP,
          OrderState.SCREENING_REVIEW, OrderState.ON_HOLD]  # fmt: skip
BATCH = 500


def booking(rng: random.Random, n: int) -> BookOrderRequest:
    """A varied order: one or two lines, a destination, sometimes a Chinese parent company."""
    lines = [
        {"sku": sku, "quantity": rng.randint(1, 64), "unit_price": price}
        for sku, price in rng.sample(SKUS, rng.choice([1, 1, 2]))
    ]
    dest, parent = rng.choice(DESTINATIONS), rng.choice(PARENTS)
    end_user: dict[str, Any] = {"name": f"Bench Inference {n % 211} Ltd.", "country": dest}
    if parent:
        end_user["headquarters_country"] = parent
    return BookOrderRequest.model_validate(
        {
            "purchaser": {"name": f"Bench Cloud {n % 97} Co., Ltd.", "country": "CN"},
            "end_user": end_user,
            "end_use": "commercial AI inference",
            "lines": list({line["sku"]: line for line in lines}.values()),
            "requested_ship_date": (date.today() + timedelta(days=60)).isoformat(),
            "external_ref": f"PREVIEW-{n:06d}",
        }
    )


def status_for(book: BookOrderRequest, state: OrderState) -> OrderStatus:
    """What the workflow writes once screening and determination are done."""
    now = datetime.now(UTC)
    det = determine(facts_of(book), load_catalog(), None, now.date())
    held = OrderState.AWAITING_LICENSE if state is OrderState.ON_HOLD else None
    return OrderStatus(
        state=state,
        held_from=held,
        waiting_for=waiting_for(state),
        screening=ScreeningResult(status=ScreeningStatus.CLEAR, screened_at=now),
        determination=det,
    )


def seed_open_orders(write: SessionFactory, count: int, seed: int = 11) -> None:
    """Book `count` open orders in batches, each with its post-determination status."""
    rng = random.Random(seed)
    for first in range(0, count, BATCH):
        with write() as session:
            for n in range(first, min(first + BATCH, count)):
                book = booking(rng, n)
                row = orders_repo.insert_order(
                    session,
                    order_id=f"ORD-PV{n:08d}",
                    booking=book,
                    created_by="alice",
                    idempotency_key=None,
                    request_hash="bench",
                    now=datetime.now(UTC),
                )
                status = status_for(book, rng.choice(STATES))
                session.connection().execute(
                    update(OrderRow)
                    .where(OrderRow.id == row.id)  # type: ignore[arg-type]
                    .values(
                        state=status.state.value,
                        status=status.model_dump(mode="json"),
                        ruleset_version=load_catalog().ruleset.version,
                        workflow_started=True,
                        seq=1,
                    )
                )
            session.commit()
