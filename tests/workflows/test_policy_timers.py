"""A rule set switches on by itself on its date and off on its expiry (time-skipping server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas.actions import NoteCommand
from schemas.common import Actor, Role
from schemas.orders import BookOrderRequest, OrderState
from schemas.rulesets import StageRuleSet
from services.config import Settings
from services.db import auth_repo, orders_repo
from services.db.engine import SessionFactory, make_engine, session_factory
from services.db.migrate import upgrade
from services.orders_start import start_order_workflow
from services.policy import store
from services.policy.timers import start_timer
from services.policy.views import view
from services.worker import build_worker
from tests.conftest import tool
from tests.harness import booking
from tests.policy_data import customs_stop, edited, rtx_needs_license
from workflows.catalog import load_catalog
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

BOB = Actor(user="bob", roles=frozenset({Role.COMPLIANCE}))
S = OrderState


@pytest.fixture
async def alone(tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    """A time-skipping server of the test's own, with a worker on a fresh SQLite database."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        task_queue=f"ts-{uuid.uuid4().hex[:8]}",
        worker_max_concurrent_activities=8,
    )
    engine = make_engine(url)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            async with build_worker(env.client, settings, engine, pool):
                yield env, settings
    finally:
        engine.dispose()
        await env.shutdown()


async def _book(client: Client, settings: Settings, sku: str, until: S) -> str:
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        row = orders_repo.insert_order(
            session,
            order_id=f"ORD-TS{uuid.uuid4().hex[:8].upper()}",
            booking=BookOrderRequest.model_validate(booking(sku=sku)),
            created_by="alice",
            idempotency_key=None,
            request_hash="x",
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    await start_order_workflow(client, row, task_queue=settings.task_queue)
    await _until(lambda: _state(client, row.id), until)
    return row.id


async def _state(client: Client, order_id: str) -> S:
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(order_id))
    return (await handle.query(OrderWorkflow.status)).state


async def _until(probe: Callable[[], Awaitable[object]], want: object, timeout: float = 60) -> None:
    """Poll (real time) until `probe()` gives `want`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await probe()) != want:
        assert asyncio.get_running_loop().time() < deadline, f"{got!r} is not {want!r}"
        await asyncio.sleep(0.1)


def _stage_and_approve(write: SessionFactory, version: str, start: datetime) -> store.RuleSetRow:
    rules = edited(version, rtx_needs_license, customs_stop("H20", "CN"))
    body = StageRuleSet(
        ruleset=rules,
        effective_on=(start + timedelta(days=10)).date(),
        expires_on=(start + timedelta(days=20)).date(),
    )
    now = datetime.now(UTC)
    with write() as session:
        for officer in ("bob", "carol"):
            auth_repo.create_token(session, user=officer, role=Role.COMPLIANCE, now=now)
        store.stage(session, body=body, actor="dave", now=now)
        store.approve(session, version=version, actor="bob", note=None, now=now)
        row = store.approve(session, version=version, actor="carol", note=None, now=now)
        session.commit()
    return row


async def test_a_rule_set_switches_on_on_its_date_and_its_expiry_restores_the_outcomes(
    alone: tuple[WorkflowEnvironment, Settings],
) -> None:
    env, settings = alone
    client = env.client
    h20 = await _book(client, settings, "H20", S.COMPLIANCE_REVIEW)
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(h20))
    await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    rtx = await _book(client, settings, "RTX-PRO-6000D", S.READY_TO_SHIP)
    engine = make_engine(settings.database_url)
    read, write = session_factory(engine), session_factory(engine, write=True)
    start = await env.get_current_time()
    version = f"ts-{uuid.uuid4().hex[:6]}"
    row = _stage_and_approve(write, version, start)
    await start_timer(client, row, settings)

    async def status() -> str:
        with read() as session:
            return view(session, version).status.value

    await env.sleep(timedelta(days=9))
    assert await status() == "approved"
    assert (await _state(client, h20), await _state(client, rtx)) == (
        S.AWAITING_LICENSE,
        S.READY_TO_SHIP,
    )

    await env.sleep(timedelta(days=2))
    await _until(lambda: _state(client, h20), S.ON_HOLD)
    await _until(lambda: _state(client, rtx), S.COMPLIANCE_REVIEW)
    with read() as session:
        found = view(session, version)
        events = orders_repo.list_events(session, order_id=rtx)
    assert found.status.value == "active"
    assert found.activated_at is not None
    assert found.activated_at.date() == found.effective_on  # on the date, not before
    redetermined = [e for e in events if e.action == "redetermine"]
    assert [e.data["event"] for e in redetermined] == ["activated"]
    assert redetermined[0].at.date() == found.effective_on

    await env.sleep(timedelta(days=10))
    await _until(lambda: _state(client, h20), S.AWAITING_LICENSE)
    await _until(status, "expired")
    baseline = load_catalog().ruleset.version

    async def rtx_rules() -> str:
        with read() as session:
            order = orders_repo.get_order(session, rtx)
            assert order is not None
            return str(order.status["determination"]["ruleset_version"])

    await _until(rtx_rules, baseline)
    with read() as session:
        order = orders_repo.get_order(session, rtx)
        held = [e for e in orders_repo.list_events(session, order_id=h20) if e.action != "escalate"]
        found = view(session, version)
    engine.dispose()
    assert order is not None
    assert order.status["determination"]["license_required"] is False
    assert [e.to_state for e in held[-2:]] == [S.ON_HOLD.value, S.AWAITING_LICENSE.value]
    assert held[-1].data["impact"]["change"] == "import_stop_lifted"
    assert found.expired_at is not None
    assert found.expired_at.date() == found.expires_on
    assert [e.action for e in found.events][-4:] == ["activated", "fan-out", "expired", "fan-out"]


async def test_a_customs_stop_dated_inside_a_rule_set_holds_orders_on_its_own_date(
    alone: tuple[WorkflowEnvironment, Settings],
) -> None:
    env, settings = alone
    client = env.client
    h20 = await _book(client, settings, "H20", S.COMPLIANCE_REVIEW)
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(h20))
    await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    engine = make_engine(settings.database_url)
    read, write = session_factory(engine), session_factory(engine, write=True)
    start = await env.get_current_time()
    version = f"ts-{uuid.uuid4().hex[:6]}"
    stop_on = (start + timedelta(days=15)).date()
    rules = edited(version, customs_stop("H20", "CN", stop_on.isoformat()))
    now = datetime.now(UTC)
    with write() as session:
        for officer in ("bob", "carol"):
            auth_repo.create_token(session, user=officer, role=Role.COMPLIANCE, now=now)
        body = StageRuleSet(ruleset=rules, effective_on=(start + timedelta(days=10)).date())
        store.stage(session, body=body, actor="dave", now=now)
        store.approve(session, version=version, actor="bob", note=None, now=now)
        row = store.approve(session, version=version, actor="carol", note=None, now=now)
        session.commit()
    await start_timer(client, row, settings)

    await env.sleep(timedelta(days=12))  # active, but the stop is not yet in force

    async def status() -> str:
        with read() as session:
            return view(session, version).status.value

    await _until(status, "active")
    assert await _state(client, h20) is S.AWAITING_LICENSE
    await env.sleep(timedelta(days=4))
    await _until(lambda: _state(client, h20), S.ON_HOLD)
    with read() as session:
        held = orders_repo.list_events(session, order_id=h20)[-1]
        found = view(session, version)
    engine.dispose()
    assert (held.action, held.data["event"]) == ("redetermine", "dated-change")
    assert held.at.date() == stop_on
    assert "import stop: CN refuses H20" in (held.reason or "")
    assert [e.action for e in found.events][-2:] == ["dated-change", "fan-out"]
