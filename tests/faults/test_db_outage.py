"""The database goes away for a while mid-run: activities retry, the read model catches up.

PostgreSQL: the test's own database refuses connections (ALLOW_CONNECTIONS false) and every
open one is terminated, for several seconds, right after the orders were booked. Their
workflows' transitions fail and are retried with backoff; once the database is back, every
order reaches its end and nothing is written twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from services.worker import build_worker
from tests import pg
from tests.faults import invariants
from tests.faults.conftest import prepared_db, settings_for
from tests.faults.support import Driver, plans
from tests.harness import ApiHarness, make_api
from workflows.ids import workflow_id_for

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.timeout(300)]

OUTAGE_SECONDS = 6


@pytest.fixture
def pg_settings(temporal_env: WorkflowEnvironment) -> Iterator[Settings]:
    """A fresh PostgreSQL database of the test's own."""
    pg.require_pg()
    url = pg.create_database()
    try:
        prepared_db(url)
        yield settings_for(url, temporal_env.client.service_client.config.target_host)
    finally:
        pg.drop_database(url)


@pytest.fixture
async def pg_api(pg_settings: Settings, temporal_client: Client) -> AsyncIterator[ApiHarness]:
    """Worker (in-process) and API on the PostgreSQL database."""
    engine = make_engine(pg_settings.database_url)
    with ThreadPoolExecutor(max_workers=20) as executor:
        async with (
            build_worker(temporal_client, pg_settings, engine, executor),
            make_api(pg_settings) as api,
        ):
            yield api
    engine.dispose()


def _allow_connections(url: str, allowed: bool) -> None:
    name = make_url(url).database
    admin = create_engine(pg.base_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


async def _max_attempt(client: Client, oids: list[str]) -> int:
    """The highest attempt of any pending activity of these orders' workflows."""
    attempts = [0]
    for oid in oids:
        described = await client.get_workflow_handle(workflow_id_for(oid)).describe()
        attempts += [a.attempt for a in described.raw_description.pending_activities]
    return max(attempts)


async def test_orders_catch_up_after_the_database_was_unavailable(
    pg_api: ApiHarness, pg_settings: Settings, temporal_client: Client
) -> None:
    todo = plans(20, seed=5432)
    driver = Driver(pg_api.http, pg_api.tokens)
    oids = [await driver.book(plan.body) for plan in todo]
    _allow_connections(pg_settings.database_url, False)
    began = time.monotonic()
    try:
        # The workflows' writes fail and are retried, not dropped: wait until a retry shows
        # (on a busy machine the first attempt alone may take longer than the outage), and
        # keep the database away for at least OUTAGE_SECONDS.
        while await _max_attempt(temporal_client, oids) < 2:
            assert time.monotonic() - began < 120, "no write was retried during the outage"
            await asyncio.sleep(0.2)
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
    finally:
        _allow_connections(pg_settings.database_url, True)

    async def finish(oid: str, index: int) -> None:
        plan = todo[index]
        await driver.wait_state(oid, plan.first, timeout=90)
        for step in plan.steps:
            await driver.act(oid, step)
        assert await driver.state(oid) == plan.end

    await asyncio.gather(*(finish(oid, i) for i, oid in enumerate(oids)))
    engine = make_engine(pg_settings.database_url)
    try:
        assert invariants.problems(engine) == []
    finally:
        engine.dispose()
