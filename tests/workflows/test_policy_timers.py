"""A rule set switches on by itself on its date and off on its expiry (time-skipping server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas.actions import NoteCommand
from schemas.catalog import RuleSet
from schemas.common import Actor, Role
from schemas.orders import BookOrderRequest, OrderEvent, OrderState
from schemas.rulesets import RuleSetView, StageRuleSet
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


@dataclass
class Clock:
    """A time-skipping server with a worker on a database of its own, and what tests ask it."""

    env: WorkflowEnvironment
    settings: Settings
    read: SessionFactory
    write: SessionFactory

    @property
    def client(self) -> Client:
        """The server's client."""
        return self.env.client

    async def book(self, sku: str, until: S) -> str:
        """Book an order and wait for it to reach `until` after screening."""
        with self.write() as session:
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
        await start_order_workflow(self.client, row, task_queue=self.settings.task_queue)
        await until_(lambda: self.state(row.id), until)
        return row.id

    async def awaiting_license(self) -> str:
        """An H20 order approved by compliance, waiting for its license."""
        oid = await self.book("H20", S.COMPLIANCE_REVIEW)
        handle = self.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(oid))
        await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
        return oid

    async def state(self, order_id: str) -> S:
        """The order's state as its workflow has it."""
        handle = self.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(order_id))
        return (await handle.query(OrderWorkflow.status)).state

    async def approved(self, rules: RuleSet, starts: int, ends: int | None = None) -> str:
        """`rules` staged and approved by two officers, in force `starts` days from now (and
        until `ends` days from now), its timer started; its version."""
        now, today = datetime.now(UTC), await self.env.get_current_time()
        body = StageRuleSet(
            ruleset=rules,
            effective_on=(today + timedelta(days=starts)).date(),
            expires_on=(today + timedelta(days=ends)).date() if ends else None,
        )
        with self.write() as session:
            for officer in ("bob", "carol"):
                auth_repo.create_token(session, user=officer, role=Role.COMPLIANCE, now=now)
            store.stage(session, body=body, actor="dave", now=now)
            store.approve(session, version=rules.version, actor="bob", note=None, now=now)
            row = store.approve(session, version=rules.version, actor="carol", note=None, now=now)
            session.commit()
        await start_timer(self.client, row, self.settings)
        return rules.version

    def ruleset(self, version: str) -> RuleSetView:
        """The rule set as the API shows it."""
        with self.read() as session:
            return view(session, version)

    def events(self, order_id: str) -> list[OrderEvent]:
        """The order's audit trail, deadline escalations left out."""
        with self.read() as session:
            trail = orders_repo.list_events(session, order_id=order_id)
        return [e for e in trail if e.action != "escalate"]

    def determination(self, order_id: str) -> dict[str, Any]:
        """The order's determination in the read model."""
        with self.read() as session:
            row = orders_repo.get_order(session, order_id)
        assert row is not None
        return dict(row.status["determination"])


@pytest.fixture
async def clock(tmp_path: Path) -> AsyncIterator[Clock]:
    """A time-skipping server of the test's own: no other test's orders wake up in its skips."""
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
                yield Clock(
                    env, settings, session_factory(engine), session_factory(engine, write=True)
                )
    finally:
        engine.dispose()
        await env.shutdown()


async def until_(probe: Callable[[], Awaitable[object]], want: object, timeout: float = 60) -> None:
    """Poll (real time) until `probe()` gives `want`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await probe()) != want:
        assert asyncio.get_running_loop().time() < deadline, f"{got!r} is not {want!r}"
        await asyncio.sleep(0.1)


async def test_a_rule_set_switches_on_on_its_date_and_its_expiry_restores_the_outcomes(
    clock: Clock,
) -> None:
    h20 = await clock.awaiting_license()
    rtx = await clock.book("RTX-PRO-6000D", S.READY_TO_SHIP)
    rules = edited(f"ts-{uuid.uuid4().hex[:6]}", rtx_needs_license, customs_stop("H20", "CN"))
    version = await clock.approved(rules, starts=10, ends=20)

    await clock.env.sleep(timedelta(days=9))
    assert clock.ruleset(version).status.value == "approved"
    assert (await clock.state(h20), await clock.state(rtx)) == (S.AWAITING_LICENSE, S.READY_TO_SHIP)

    await clock.env.sleep(timedelta(days=2))
    await until_(lambda: clock.state(h20), S.ON_HOLD)
    await until_(lambda: clock.state(rtx), S.COMPLIANCE_REVIEW)
    found = clock.ruleset(version)
    assert found.status.value == "active"
    assert found.activated_at is not None
    assert found.activated_at.date() == found.effective_on  # on the date, not before
    redetermined = [e for e in clock.events(rtx) if e.action == "redetermine"]
    assert [(e.data["event"], e.at.date()) for e in redetermined] == [
        ("activated", found.effective_on)
    ]

    await clock.env.sleep(timedelta(days=10))
    await until_(lambda: clock.state(h20), S.AWAITING_LICENSE)
    baseline = load_catalog().ruleset.version
    await until_(lambda: _async(clock.determination(rtx)["ruleset_version"]), baseline)
    assert clock.determination(rtx)["license_required"] is False
    held = clock.events(h20)
    assert [e.to_state for e in held[-2:]] == [S.ON_HOLD.value, S.AWAITING_LICENSE.value]
    impact = held[-1].data["impact"]
    assert isinstance(impact, dict)
    assert impact["change"] == "import_stop_lifted"
    found = clock.ruleset(version)
    assert (found.status.value, found.expired_at and found.expired_at.date()) == (
        "expired",
        found.expires_on,
    )
    assert [e.action for e in found.events][-4:] == ["activated", "fan-out", "expired", "fan-out"]


async def _async(value: object) -> object:
    return value


async def test_a_customs_stop_dated_inside_a_rule_set_holds_orders_on_its_own_date(
    clock: Clock,
) -> None:
    h20 = await clock.awaiting_license()
    stop_on = (await clock.env.get_current_time() + timedelta(days=15)).date()
    rules = edited(f"ts-{uuid.uuid4().hex[:6]}", customs_stop("H20", "CN", stop_on.isoformat()))
    version = await clock.approved(rules, starts=10)

    await clock.env.sleep(timedelta(days=12))  # active, but the stop is not yet in force
    await until_(lambda: _async(clock.ruleset(version).status.value), "active")
    assert await clock.state(h20) is S.AWAITING_LICENSE
    await clock.env.sleep(timedelta(days=4))
    await until_(lambda: clock.state(h20), S.ON_HOLD)
    held = clock.events(h20)[-1]
    assert (held.action, held.data["event"], held.at.date()) == (
        "redetermine",
        "dated-change",
        stop_on,
    )
    assert "import stop: CN refuses H20" in (held.reason or "")
    assert [e.action for e in clock.ruleset(version).events][-2:] == ["dated-change", "fan-out"]
