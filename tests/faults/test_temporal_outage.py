"""Kill the (persisted) Temporal dev server mid-run and start it again: no order is lost.

While it is down the API still answers: actions get 503 with Retry-After (never 500), and
bookings are accepted (201); the worker's outbox starts their workflows once it is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.config import Settings
from services.db.engine import make_engine
from tests.faults import invariants
from tests.faults.conftest import prepared_db, settings_for, worker_process
from tests.faults.devserver import DevServer
from tests.faults.support import Driver, plans, run_all
from tests.harness import ApiHarness, booking, make_api

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

SEED = 7233


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    """A persisted dev server of the test's own."""
    dev = DevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    dev.start()
    yield dev
    dev.stop()


@pytest.fixture
def outage_settings(tmp_path: Path, server: DevServer) -> Settings:
    """A fresh SQLite database, on the test's own server."""
    return settings_for(prepared_db(f"sqlite:///{tmp_path / 'exportflow.db'}"), server.address)


async def _while_down(api: ApiHarness, driver: Driver, probe: str) -> list[str]:
    """What the API answers with Temporal gone: 503 for an action, 201 for bookings."""
    began = time.monotonic()
    r = await api.act(probe, "approve", "bob", {"note": "while Temporal is down"})
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert time.monotonic() - began < 60
    return [await driver.book(booking(sku="H20", ref=f"DOWN-{i}")) for i in range(5)]


async def test_no_order_is_lost_when_the_temporal_server_dies(
    server: DevServer, outage_settings: Settings
) -> None:
    todo = plans(30, SEED)
    engine: Engine = make_engine(outage_settings.database_url)
    with worker_process(outage_settings):
        async with make_api(outage_settings) as api:
            driver = Driver(api.http, api.tokens)
            probe = await driver.book(booking(sku="H20", ref="PROBE"))
            await driver.wait_state(probe, "COMPLIANCE_REVIEW")
            running = asyncio.create_task(run_all(driver, todo, concurrency=30))
            await asyncio.sleep(2)
            server.kill()
            booked_down = await _while_down(api, driver, probe)
            server.start()
            done = await running
            for oid in booked_down:  # started by the outbox once Temporal was back
                await driver.wait_state(oid, "COMPLIANCE_REVIEW", timeout=120)
                await driver.act(oid, ("reject", "bob", {"reason": "test"}, "REJECTED"))
            await driver.act(probe, ("approve", "bob", {"note": "back"}, "AWAITING_LICENSE"))
            for (oid, _), plan in zip(done, todo, strict=True):
                assert await driver.state(oid) == plan.end, (oid, plan.name)
    assert invariants.problems(engine) == []
    engine.dispose()


async def test_readiness_reports_temporal_down_with_503(
    server: DevServer, outage_settings: Settings
) -> None:
    async with make_api(outage_settings) as api:
        r = await api.http.get("/readyz")
        assert r.status_code == 200, r.text
        server.kill()
        r = await api.http.get("/readyz")
        assert r.status_code == 503
        assert r.json()["temporal"] != "ok"
