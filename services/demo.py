"""The demo order book of `exportflow dev --demo`, and the bundled screening list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import httpx

from schemas.common import Role
from services.config import Settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.screening import store

# A party on the bundled demo list (BIS Entity List).
LISTED_END_USER = "Academy of Military Medical Sciences"


def ensure_screening_list(settings: Settings) -> None:
    """Import the bundled demo list when no list has been imported yet."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            if store.active_snapshot(session) is not None:
                return
            demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
            with resources.as_file(demo) as path:
                info = store.import_list_file(
                    session, path=Path(path), imported_by="exportflow-dev"
                )
        print(
            f"imported the bundled demo screening list ({info.row_count} entries); "
            "import the real one with: exportflow screening-list import FILE"
        )
    finally:
        engine.dispose()


def _demo_orders() -> list[tuple[str, dict[str, object]]]:
    ship = (date.today() + timedelta(days=60)).isoformat()
    purchaser = {
        "name": "Shenzhen Example Cloud Computing Co., Ltd.",
        "country": "CN",
        "address": "Nanshan District, Shenzhen",
    }

    def order(end_user: str, sku: str, qty: int, price: str) -> dict[str, object]:
        return {
            "purchaser": purchaser,
            "end_user": {"name": end_user, "country": "CN", "address": "Beijing"},
            "end_use": "AI inference for commercial cloud services",
            "lines": [{"sku": sku, "quantity": qty, "unit_price": price}],
            "requested_ship_date": ship,
        }

    return [
        (
            "demo-h20-cn",
            order("Beijing Example Internet Technology Co., Ltd.", "H20", 200, "12000.00"),
        ),
        (
            "demo-rtxpro-cn",
            order("Hangzhou Example Rendering Studio", "RTX-PRO-6000D", 50, "8500.00"),
        ),
        ("demo-listed-end-user", order(LISTED_END_USER, "H20", 16, "12000.00")),
    ]


def _tokens(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    users = [
        ("sales.demo", Role.SALES_OPS),
        ("compliance.demo", Role.COMPLIANCE),
        ("compliance.demo2", Role.COMPLIANCE),
        ("viewer.demo", Role.VIEWER),
    ]
    try:
        with session_factory(engine, write=True)() as session:
            tokens = {u: auth_repo.create_token(session, user=u, role=r, now=now) for u, r in users}
            session.commit()
    finally:
        engine.dispose()
    return tokens


async def book_demo(settings: Settings, base_url: str) -> None:
    """Book the demo orders over the API (idempotently) and print the demo users' tokens."""
    tokens = _tokens(settings)
    headers = {"Authorization": f"Bearer {tokens['sales.demo']}"}
    async with httpx.AsyncClient(base_url=base_url + "/api/v1", headers=headers) as http:
        for key, body in _demo_orders():
            r = await http.post("/orders", json=body, headers={"Idempotency-Key": key})
            r.raise_for_status()
            print(f"  demo order  {r.json()['id']}  {key}")
    print("  demo tokens (new each start):")
    for user, token in tokens.items():
        print(f"    {user:<17} {token}")
