"""Workflow-level tests of the new paths: split into a child workflow, license events sent
twice, and the license action fan-out (continue-as-new, a batch retried after a crash)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from schemas.license_actions import (
    LicenseActionInput,
    LicenseActionKind,
    LicenseActionResult,
    LicenseEvent,
)
from services.config import Settings
from services.db import license_actions_repo
from services.db.engine import make_engine, session_factory
from services.license_fanout import SqlLicenseActionStore, sender
from tests.harness import ApiHarness, booking, license_body
from workflows.ids import workflow_id_for
from workflows.license_action import LicenseActionWorkflow, license_action_workflow_id
from workflows.license_action_activities import LicenseActionActivities
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.usefixtures("screening_list")

SHIP = {"carrier": "DHL", "tracking_number": "T", "itn": "X20261201880001"}


async def approved(api: ApiHarness) -> str:
    oid = await api.book(booking(quantity=10))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    return oid


async def on_license(api: ApiHarness, number: str, n: int) -> list[str]:
    orders = []
    for i in range(n):
        oid = await approved(api)
        body = (
            license_body(number) if i == 0 else {"decision": "approved", "license_number": number}
        )
        assert (await api.act(oid, "record-license", "carol", body)).status_code == 200
        orders.append(oid)
    return orders


async def events_of(api: ApiHarness, oid: str) -> list[str]:
    r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
    return [e["action"] for e in r.json()["items"]]


async def test_the_remainder_runs_its_own_workflow_and_outlives_the_original(
    api: ApiHarness, temporal_client: Client
) -> None:
    oid = await approved(api)
    r = await api.act(oid, "record-license", "carol", license_body("DX300001", quantity=4))
    child = r.json()["split_into"][0]
    handle = temporal_client.get_workflow_handle(workflow_id_for(child))
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.parent_workflow_execution.workflow_id == workflow_id_for(oid)
    assert (await handle.query(OrderWorkflow.status)).state == "AWAITING_LICENSE"
    # The original ships and ends; the remainder keeps waiting for its license.
    assert (await api.act(oid, "ship", "alice", SHIP)).status_code == 200
    assert (await api.act(oid, "deliver", "alice")).status_code == 200
    parent = temporal_client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(oid))
    assert (await parent.result()).state == "DELIVERED"
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    # The remainder skipped screening and determination: no such activities in its history.
    kinds = activity_types(await handle.fetch_history())
    assert kinds["screen_parties"] == kinds["determine_license"] == 0
    # The original's history has them, so they would be seen (remote or local).
    original = activity_types(await parent.fetch_history())
    assert original["screen_parties"] >= 1
    assert original["determine_license"] >= 1


def activity_types(history: WorkflowHistory) -> Counter[str]:
    """How often each activity ran in a history: remote ones and local ones (markers)."""
    kinds: Counter[str] = Counter()
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            kinds[e.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                kinds[json.loads(marker.details["data"].payloads[0].data)["activity_type"]] += 1
    return kinds


async def test_a_license_event_sent_twice_changes_the_order_once(
    api: ApiHarness, temporal_client: Client
) -> None:
    (oid,) = await on_license(api, "DX300002", 1)
    handle = temporal_client.get_workflow_handle(workflow_id_for(oid))
    event = LicenseEvent(
        action_id=987654,
        kind=LicenseActionKind.SUSPEND,
        license_number="DX300002",
        reason="test",
        actor="bob",
    )
    answers = [
        await handle.execute_update(OrderWorkflow.license_event, event, id="license-987654-x")
        for _ in range(2)
    ]
    assert answers[0] == answers[1]
    assert answers[0].outcome == "held"
    assert (await events_of(api, oid)).count("license-suspended") == 1
    # Sent again under another id (another action), the order knows it is held already.
    again = await handle.execute_update(OrderWorkflow.license_event, event, id="license-987655-x")
    assert (again.outcome, again.detail) == ("held", "held already")
    assert (await events_of(api, oid)).count("license-suspended") == 1


def _action(settings: Settings, number: str, kind: LicenseActionKind) -> int:
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        row = license_actions_repo.request_action(
            session, number=number, kind=kind, reason="test", actor="bob", now=datetime.now(UTC)
        )
        assert row is not None
        session.commit()
        action_id = row.id or 0
    engine.dispose()
    return action_id


class FailsOnce(SqlLicenseActionStore):
    """Loses the first batch's results after its updates went out, as a crash would."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.failed = False

    def record(self, action_id: int, results: list[LicenseActionResult]) -> int:
        if not self.failed:
            self.failed = True
            raise RuntimeError("worker lost before the results were written")
        return super().record(action_id, results)


async def test_the_fan_out_continues_as_new_and_a_lost_batch_is_done_once(
    api: ApiHarness, temporal_client: Client, settings: Settings
) -> None:
    orders = await on_license(api, "DX300003", 5)
    action_id = _action(settings, "DX300003", LicenseActionKind.SUSPEND)
    engine = make_engine(settings.database_url)
    store = FailsOnce(session_factory(engine, write=True))
    acts = LicenseActionActivities(store, sender(temporal_client))
    queue = f"fanout-{uuid.uuid4().hex[:8]}"
    inp = LicenseActionInput(
        action_id=action_id,
        kind=LicenseActionKind.SUSPEND,
        license_number="DX300003",
        reason="test",
        actor="bob",
        batch_size=2,
        batches_per_run=1,
    )
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[LicenseActionWorkflow],
        activities=[acts.count, acts.batch, acts.finish],
    ):
        handle = await temporal_client.start_workflow(
            LicenseActionWorkflow.run,
            inp,
            id=license_action_workflow_id(action_id),
            task_queue=queue,
        )
        assert await handle.result() == 5
    engine.dispose()
    assert store.failed
    first = await temporal_client.get_workflow_handle(
        handle.id, run_id=handle.first_execution_run_id
    ).fetch_history()
    assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    lic = (await api.http.get("/api/v1/licenses/DX300003", headers=api.auth("vic"))).json()
    action = lic["actions"][0]
    assert (action["total"], action["done"]) == (5, 5)
    assert sorted(r["order_id"] for r in action["results"]) == sorted(orders)
    for oid in orders:
        assert (await api.get(oid))["state"] == "ON_HOLD"
        assert (await events_of(api, oid)).count("license-suspended") == 1


def test_two_databases_first_license_action_get_different_fan_out_workflows() -> None:
    # Action ids restart with each database; a second database (a restored backup, another
    # environment) on the same namespace must not attach to the first one's fan-out.
    first = datetime(2026, 12, 1, 3, 0, 0, 123456, tzinfo=UTC)
    second = first.replace(microsecond=123457)
    assert license_action_workflow_id(1, first) != license_action_workflow_id(1, second)
    naive = first.replace(tzinfo=None)  # as SQLite gives it back
    assert license_action_workflow_id(1, naive) == license_action_workflow_id(1, first)
