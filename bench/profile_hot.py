"""Profile the hot paths in-process with pyinstrument: status lookup, list, record_transition.

Run from the repository root: `python -m bench.profile_hot`. Writes bench/out/profile_*.txt
(pyinstrument's text view). No Temporal server is needed: the API starts without one, and the
worker's store is called directly.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pyinstrument import Profiler

from bench import _db
from bench._stack import OUT
from bench.drive import booking
from schemas.common import Role
from schemas.orders import BookOrderRequest, OrderState, OrderStatus
from schemas.workflow_io import TransitionRecord
from services.api.app import create_app
from services.config import Settings
from services.db import auth_repo, orders_repo
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade
from services.db.store import SqlOrderStore

REQUESTS = 2000


def _setup(url: str) -> tuple[str, list[str]]:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    ids = []
    with session_factory(engine, write=True)() as session:
        token = auth_repo.create_token(session, user="vic", role=Role.VIEWER, now=now)
        for i in range(50):
            row = orders_repo.insert_order(
                session,
                order_id=f"ORD-PROF{i:04d}",
                booking=BookOrderRequest.model_validate(booking()),
                created_by="alice",
                idempotency_key=None,
                request_hash="x",
                now=now,
            )
            ids.append(row.id)
        session.commit()
    engine.dispose()
    return token, ids


async def _requests(url: str, token: str, paths: list[str]) -> float:
    app = create_app(Settings(database_url=url, temporal_address="127.0.0.1:1"))
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get(paths[0], headers=headers)  # warm-up
            began = time.perf_counter()
            for i in range(REQUESTS):
                r = await http.get(paths[i % len(paths)], headers=headers)
                assert r.status_code == 200, r.text
            return (time.perf_counter() - began) / REQUESTS * 1e6


def _profile_http(name: str, url: str, token: str, paths: list[str]) -> float:
    profiler = Profiler(async_mode="enabled")
    with profiler:
        per_request_us = asyncio.run(_requests(url, token, paths))
    (OUT / f"profile_{name}.txt").write_text(profiler.output_text(unicode=False, show_all=False))
    return per_request_us


def _profile_store(url: str, ids: list[str]) -> float:
    store = SqlOrderStore(session_factory(make_engine(url), write=True))
    status = OrderStatus(state=OrderState.SCREENING)
    profiler = Profiler()
    began = time.perf_counter()
    with profiler:
        for seq in range(1, 21):
            for oid in ids:
                rec = TransitionRecord(
                    order_id=oid,
                    seq=seq,
                    at=datetime.now(UTC),
                    actor="system",
                    action="bench",
                    from_state=OrderState.BOOKED,
                    to_state=OrderState.SCREENING,
                    status=status,
                )
                store.record_transition(rec)
    per_call = (time.perf_counter() - began) / (20 * len(ids)) * 1e6
    (OUT / "profile_record_transition.txt").write_text(profiler.output_text(unicode=False))
    return per_call


def main() -> None:
    """Profile and print the cost per call of each hot path."""
    parser = argparse.ArgumentParser(description=__doc__)
    _db.add_argument(parser)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, _db.database(args.database, Path(tmp)) as url:
        token, ids = _setup(url)
        get_us = _profile_http("get_order", url, token, [f"/api/v1/orders/{i}" for i in ids])
        list_us = _profile_http("list_orders", url, token, ["/api/v1/orders?state=BOOKED"])
        store_us = _profile_store(url, ids)
    print(f"GET /orders/{{id}}: {get_us:.0f} us per request (in-process, serial)")
    print(f"GET /orders?state=: {list_us:.0f} us per request (in-process, serial)")
    print(f"record_transition: {store_us:.0f} us per call")
    print(f"profiles in {OUT}/profile_*.txt")


if __name__ == "__main__":
    main()
