"""Fixtures of the webhook tests: API and dispatcher with short backoffs, a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from sqlmodel import select

from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.db.webhook_models import WebhookRow
from services.webhooks import store
from services.webhooks.dispatcher import Dispatchers
from tests.harness import ApiHarness, make_api
from tests.webhooks.receiver import Receiver

FAST = {
    "webhooks_allow_private": True,
    "webhooks_backoff_base_seconds": 0.2,
    "webhooks_backoff_max_seconds": 2.0,
    "webhooks_lease_seconds": 3.0,
    "webhooks_poll_seconds": 0.05,
    "webhooks_timeout_seconds": 15.0,
}


@pytest.fixture
def wh_settings(settings: Settings) -> Settings:
    """The test's settings with receivers on 127.0.0.1 allowed and retries seconds apart."""
    return settings.model_copy(update=FAST)


@pytest.fixture
async def wh_api(wh_settings: Settings, worker: None) -> AsyncIterator[ApiHarness]:
    """Worker and API; every subscription is deleted afterwards (the database is shared)."""
    async with make_api(wh_settings) as harness:
        yield harness
    engine = make_engine(wh_settings.database_url)
    with session_factory(engine, write=True)() as session:
        for webhook in session.exec(select(WebhookRow)).all():
            store.remove(session, webhook.id)
        session.commit()
    engine.dispose()


@asynccontextmanager
async def dispatchers(settings: Settings) -> AsyncIterator[None]:
    """A webhook dispatcher running in this process, as a worker runs it."""
    engine = make_engine(settings.database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatchers(settings, engine).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        engine.dispose()


@pytest.fixture
async def dispatching(wh_settings: Settings) -> AsyncIterator[None]:
    """The dispatcher, for the whole test."""
    async with dispatchers(wh_settings):
        yield


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver listening on a port of its own."""
    r = Receiver()
    r.start()
    yield r
    r.stop()


async def subscribe(api: ApiHarness, receiver: Receiver, **filters: object) -> str:
    """Subscribe the receiver (as the integration user); it learns the secret."""
    body = {"url": receiver.url, **filters}
    r = await api.http.post("/api/v1/webhooks", json=body, headers=api.auth("ivy"))
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    return str(r.json()["id"])


async def wait_for(predicate: object, timeout: float = 120, what: str = "") -> None:
    """Poll a callable (sync or async) until it returns true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate() if callable(predicate) else predicate
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.1)


async def settled(api: ApiHarness, webhook_id: str) -> None:
    """Wait until no delivery is pending: answers are recorded a moment after they arrive."""

    async def none_pending() -> bool:
        r = await api.http.get(f"/api/v1/webhooks/{webhook_id}", headers=api.auth("ivy"))
        return int(r.json()["health"]["pending"]) == 0

    await wait_for(none_pending, what=f"{webhook_id} to have nothing pending")
