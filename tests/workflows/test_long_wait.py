"""Months-long license waits, with the time-skipping test server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas.actions import (
    EmptyCommand,
    LicenseBody,
    LicenseCommand,
    LicenseDecision,
    NoteCommand,
    ShipCommand,
)
from schemas.common import Actor, Role
from schemas.orders import BookOrderRequest, OrderState
from services.config import Settings
from services.db import licenses_view, orders_repo
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade
from services.orders_start import start_order_workflow
from services.worker import build_worker
from tests.conftest import tool
from tests.harness import booking
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

BOB = Actor(user="bob", roles=frozenset({Role.COMPLIANCE}))
ALICE = Actor(user="alice", roles=frozenset({Role.SALES_OPS}))


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: timers and waits jump ahead when idle."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@asynccontextmanager
async def _served(
    env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[Client, Settings]]:
    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        task_queue=f"ts-{uuid.uuid4().hex[:8]}",
        worker_max_concurrent_activities=8,
    )
    engine = make_engine(url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        async with build_worker(env.client, settings, engine, pool):
            yield env.client, settings
    engine.dispose()


@pytest.fixture
async def running(
    skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[Client, Settings]]:
    async with _served(skipping_env, tmp_path) as served:
        yield served


@pytest.fixture
async def alone(tmp_path: Path) -> AsyncIterator[tuple[Client, WorkflowEnvironment, Settings]]:
    """A time-skipping server of the test's own: no other test's orders wake up in its skips."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        async with _served(env, tmp_path) as (client, settings):
            yield client, env, settings
    finally:
        await env.shutdown()


async def _book(client: Client, settings: Settings) -> WorkflowHandle[OrderWorkflow, object]:
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        row = orders_repo.insert_order(
            session,
            order_id=f"ORD-TS{uuid.uuid4().hex[:8].upper()}",
            booking=BookOrderRequest.model_validate(booking()),
            created_by="alice",
            idempotency_key=None,
            request_hash="x",
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    await start_order_workflow(client, row, task_queue=settings.task_queue)
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(row.id))
    for _ in range(200):
        if (await handle.query(OrderWorkflow.status)).state is OrderState.COMPLIANCE_REVIEW:
            return handle  # type: ignore[return-value]
        await asyncio.sleep(0.05)
    raise AssertionError("order did not reach COMPLIANCE_REVIEW")


def _license(number: str, now: datetime, expires_in: timedelta) -> LicenseCommand:
    """An approved license expiring `expires_in` after the workflow clock's `now`."""
    expires = (now + expires_in).date()
    body = LicenseBody(
        decision=LicenseDecision.APPROVED,
        license_number=number,
        approved_quantity=100,
        approved_value="10000000.00",
        expires_on=expires,  # type: ignore[arg-type]
    )
    return LicenseCommand(actor=BOB, **body.model_dump())


async def test_an_order_waits_180_days_for_its_license_then_ships(
    running: tuple[Client, Settings], skipping_env: WorkflowEnvironment
) -> None:
    client, settings = running
    handle = await _book(client, settings)
    status = await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    assert status.state is OrderState.AWAITING_LICENSE
    before = await skipping_env.get_current_time()

    await skipping_env.sleep(timedelta(days=180))

    after = await skipping_env.get_current_time()
    assert after - before >= timedelta(days=180)
    assert (await handle.query(OrderWorkflow.status)).state is OrderState.AWAITING_LICENSE
    number = f"D{uuid.uuid4().int % 10**6:06d}"
    status = await handle.execute_update(
        OrderWorkflow.record_license, _license(number, after, timedelta(days=365))
    )
    assert status.state is OrderState.READY_TO_SHIP
    await handle.execute_update(
        OrderWorkflow.ship,
        ShipCommand(actor=ALICE, carrier="DHL", tracking_number="1", itn="X20270527000001"),
    )
    await handle.execute_update(OrderWorkflow.deliver, EmptyCommand(actor=ALICE))
    result = await handle.result()
    assert result.state is OrderState.DELIVERED  # type: ignore[attr-defined]


async def test_an_expired_license_sends_the_order_back_to_awaiting_license(
    running: tuple[Client, Settings], skipping_env: WorkflowEnvironment
) -> None:
    client, settings = running
    handle = await _book(client, settings)
    await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    start = await skipping_env.get_current_time()
    number = f"D{uuid.uuid4().int % 10**6:06d}"
    status = await handle.execute_update(
        OrderWorkflow.record_license, _license(number, start, timedelta(days=30))
    )
    assert status.state is OrderState.READY_TO_SHIP

    await skipping_env.sleep(timedelta(days=40))  # the expiry timer fires on day 31

    status = await handle.query(OrderWorkflow.status)
    assert status.state is OrderState.AWAITING_LICENSE
    assert status.license is None
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(
            OrderWorkflow.ship,
            ShipCommand(actor=ALICE, carrier="DHL", tracking_number="1", itn="X20270101000001"),
        )
    assert "AWAITING_LICENSE" in str(info.value.cause)
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        ledger = licenses_view.get_license(session, number=number)
        events = orders_repo.list_events(session, order_id=handle.id.removeprefix("order-"))
    engine.dispose()
    assert ledger is not None
    assert [e.kind for e in ledger.ledger] == ["reserve", "release"]
    assert ledger.remaining_quantity == 100
    assert events[-1].action == "license-expired"
    assert events[-1].at - start >= timedelta(days=30)


async def test_an_overdue_review_escalates_once_and_a_returned_license_restarts_the_clock(
    running: tuple[Client, Settings], skipping_env: WorkflowEnvironment
) -> None:
    client, settings = running
    handle = await _book(client, settings)
    status = await handle.query(OrderWorkflow.status)
    assert status.due_at is not None
    assert status.overdue is False

    await skipping_env.sleep(timedelta(days=5))  # two business days are always within five

    status = await handle.query(OrderWorkflow.status)
    assert status.state is OrderState.COMPLIANCE_REVIEW
    assert status.overdue is True
    engine = make_engine(settings.database_url)
    order_id = handle.id.removeprefix("order-")
    with session_factory(engine)() as session:
        actions = [e.action for e in orders_repo.list_events(session, order_id=order_id)]
    assert actions.count("escalate") == 1

    status = await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    assert status.state is OrderState.AWAITING_LICENSE
    first_due = status.due_at
    assert first_due is not None
    await skipping_env.sleep(timedelta(days=60))
    returned = LicenseCommand(actor=BOB, decision=LicenseDecision.RETURNED)
    status = await handle.execute_update(OrderWorkflow.record_license, returned)
    assert status.due_at is not None
    assert status.due_at - first_due >= timedelta(days=59)
    with session_factory(engine)() as session:
        row = orders_repo.get_order(session, order_id)
    engine.dispose()
    assert row is not None
    assert row.due_at is not None


async def test_a_deadline_moved_later_fires_at_the_later_time_only(
    alone: tuple[Client, WorkflowEnvironment, Settings],
) -> None:
    # Approved well within the 2-business-day review deadline: the review timer still runs
    # (revision 2 keeps it), fires on day 2-4 with nothing due, and re-arms for the 90 days.
    client, skipping_env, settings = alone
    handle = await _book(client, settings)
    status = await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    assert status.state is OrderState.AWAITING_LICENSE

    await skipping_env.sleep(timedelta(days=30))
    status = await handle.query(OrderWorkflow.status)
    assert status.overdue is False  # the review timer fired, but nothing was due

    await skipping_env.sleep(timedelta(days=62))  # past the 90-day license deadline
    status = await handle.query(OrderWorkflow.status)
    assert status.state is OrderState.AWAITING_LICENSE
    assert status.overdue is True
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        events = orders_repo.list_events(session, order_id=handle.id.removeprefix("order-"))
    engine.dispose()
    escalations = [e for e in events if e.action == "escalate"]
    assert len(escalations) == 1
    assert escalations[0].from_state == OrderState.AWAITING_LICENSE.value
