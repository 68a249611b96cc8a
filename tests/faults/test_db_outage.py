"""The database goes away for a while mid-run: activities retry, the read model catches up.

Right after the orders were booked, the database goes away for several seconds: PostgreSQL
refuses the test database's connections (ALLOW_CONNECTIONS false) and every open one is
terminated; SQLite's write lock is held by another process, so every write waits out its busy
timeout and fails with "database is locked". The workflows' transitions fail and are retried
with backoff; once the database is back, every order reaches its end and nothing is written
twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from schemas.workflow_io import TransitionRecord
from services.config import Settings
from services.db.engine import make_engine
from services.db.store import SqlOrderStore
from services.worker import build_worker
from tests import pg
from tests.conftest import BACKENDS
from tests.faults import invariants
from tests.faults.conftest import prepared_db, settings_for
from tests.faults.support import Driver, plans
from tests.harness import ApiHarness, make_api
from tests.outages import pg_refusing, sqlite_path, sqlite_write_locked

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

OUTAGE_SECONDS = 6
# The in-process worker's SQLite writes give up on a held lock after this (the product waits
# 30 s; the mechanism, a failed write retried by Temporal, is the same, and the test shorter).
SQLITE_BUSY_SECONDS = 2.0


@dataclass
class Outage:
    """A database of the test's own and how to take it away."""

    settings: Settings
    away: Callable[[], AbstractContextManager[None]]
    busy_timeout: float


@pytest.fixture(params=BACKENDS)
def outage(
    request: pytest.FixtureRequest, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> Iterator[Outage]:
    """A fresh database of either backend, with the outage that suits it."""
    address = temporal_env.client.service_client.config.target_host
    if request.param == "sqlite":
        url = prepared_db(f"sqlite:///{tmp_path / 'exportflow.db'}")
        path = sqlite_path(url)
        yield Outage(
            settings_for(url, address), lambda: sqlite_write_locked(path), SQLITE_BUSY_SECONDS
        )
        return
    pg.require_pg()
    url = pg.create_database()
    try:
        prepared_db(url)
        yield Outage(settings_for(url, address), lambda: pg_refusing(url), 30.0)
    finally:
        pg.drop_database(url)


@pytest.fixture
async def outage_api(outage: Outage, temporal_client: Client) -> AsyncIterator[ApiHarness]:
    """Worker (in-process) and API on the test's database."""
    engine = make_engine(outage.settings.database_url, busy_timeout=outage.busy_timeout)
    with ThreadPoolExecutor(max_workers=20) as executor:
        async with (
            build_worker(temporal_client, outage.settings, engine, executor),
            make_api(outage.settings) as api,
        ):
            yield api
    engine.dispose()


class Attempts:
    """The highest attempt of any transition write (remote or local activity) seen so far."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.highest = 0
        real = SqlOrderStore.record_transition

        def record_transition(store: SqlOrderStore, rec: TransitionRecord) -> None:
            self.highest = max(self.highest, activity.info().attempt)
            real(store, rec)

        monkeypatch.setattr(SqlOrderStore, "record_transition", record_transition)


async def test_orders_catch_up_after_the_database_was_unavailable(
    outage_api: ApiHarness, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = Attempts(monkeypatch)
    todo = plans(20, seed=5432)
    driver = Driver(outage_api.http, outage_api.tokens)
    oids = [await driver.book(plan.body) for plan in todo]
    began = time.monotonic()
    with outage.away():
        # The workflows' writes fail and are retried, not dropped: wait until a retry shows
        # (on a busy machine the first attempt alone may take longer than the outage), and
        # keep the database away for at least OUTAGE_SECONDS.
        while attempts.highest < 2:
            assert time.monotonic() - began < 120, "no write was retried during the outage"
            await asyncio.sleep(0.2)
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))

    async def finish(oid: str, index: int) -> None:
        plan = todo[index]
        await driver.wait_state(oid, plan.first, timeout=120)
        for step in plan.steps:
            await driver.act(oid, step)
        assert await driver.state(oid) == plan.end

    await asyncio.gather(*(finish(oid, i) for i, oid in enumerate(oids)))
    engine = make_engine(outage.settings.database_url)
    try:
        assert invariants.problems(engine) == []
    finally:
        engine.dispose()
