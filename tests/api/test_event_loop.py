"""Nothing on the event loop waits on the database: a slow query does not hold up other requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from services.config import Settings
from services.db import orders_repo
from services.db.migrate import upgrade
from services.ops import views
from tests import pg
from tests.harness import booking, make_api

pytestmark = pytest.mark.postgres
SLEEP_SECONDS = 3


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own."""
    pg.require_pg()
    url = pg.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        pg.drop_database(url)


def _sleeping(url: str) -> bool:
    """True while some session of this database runs pg_sleep."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%'"
            )
            return bool(conn.execute(query).scalar())
    finally:
        engine.dispose()


async def _wait_until_sleeping(url: str, task: asyncio.Task[Any]) -> None:
    # A loop blocked by the query could not even run this poll until the sleep had ended.
    deadline = asyncio.get_running_loop().time() + 60
    while not await asyncio.to_thread(_sleeping, url):
        assert not task.done(), "the slow request ended before its query was seen running"
        assert asyncio.get_running_loop().time() < deadline, "the slow query never started"
        await asyncio.sleep(0.05)


def _slow(real: Any) -> Any:
    def slow_list(session: Session, **kwargs: Any) -> Any:
        session.connection().execute(text(f"SELECT pg_sleep({SLEEP_SECONDS})"))
        return real(session, **kwargs)

    return slow_list


async def test_a_slow_list_query_does_not_delay_healthz_or_a_lookup(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_repo, "list_orders", _slow(orders_repo.list_orders))
    settings = Settings(database_url=pg_url, temporal_address="127.0.0.1:1")
    async with make_api(settings) as api:
        order_id = await api.book(booking())  # booked; no Temporal here, so it stays BOOKED
        slow = asyncio.create_task(api.http.get("/api/v1/orders", headers=api.auth("vic")))
        await _wait_until_sleeping(pg_url, slow)
        health = await api.http.get("/healthz")
        lookup = await api.http.get(f"/api/v1/orders/{order_id}", headers=api.auth("vic"))
        # Both answered while the list's query was still sleeping in the database.
        assert not slow.done()
        assert await asyncio.to_thread(_sleeping, pg_url)
        assert health.status_code == 200
        assert lookup.status_code == 200
        assert lookup.json()["state"] == "BOOKED"
        listed = await slow
        assert listed.status_code == 200
        assert order_id in [o["id"] for o in listed.json()["items"]]


async def test_a_slow_status_lookup_does_not_delay_healthz(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleep = text(f"SELECT pg_sleep({SLEEP_SECONDS})")
    read = views.ViewReader._read

    async def slow_read(self: views.ViewReader, ids: list[str]) -> Any:
        async with self._engine.connect() as conn:
            await conn.execute(sleep)
        return await read(self, ids)

    monkeypatch.setattr(views.ViewReader, "_read", slow_read)
    settings = Settings(database_url=pg_url, temporal_address="127.0.0.1:1")
    async with make_api(settings) as api:
        order_id = await api.book(booking())
        slow = asyncio.create_task(
            api.http.get(f"/api/v1/orders/{order_id}", headers=api.auth("vic"))
        )
        await _wait_until_sleeping(pg_url, slow)
        health = await api.http.get("/healthz")
        assert not slow.done()
        assert health.status_code == 200
        answer = await slow
        assert answer.status_code == 200
        assert json.loads(answer.content)["id"] == order_id
