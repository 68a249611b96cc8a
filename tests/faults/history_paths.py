"""Workflow paths beyond the plain lifecycle, for saved replay histories.

`SERVED` paths run on a dev server through the API, like `lifecycle_paths`: screening
dispositions, a recheck signal after a new list snapshot, and two-officer approval. `TIMED`
paths need months to pass and run on the time-skipping test server against the workflow
directly: a license that expires, and a review that goes overdue and escalates.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from schemas.actions import (
    LicenseBody,
    LicenseCommand,
    LicenseDecision,
    NoteCommand,
    ReasonCommand,
)
from schemas.common import Actor, Role
from schemas.orders import BookOrderRequest, OrderState
from services.config import Settings
from services.db import orders_repo
from services.db.engine import make_engine, session_factory
from services.demo import LISTED_END_USER
from services.orders_start import start_order_workflow
from services.recheck import signal_stale
from services.screening.store import import_list_file
from tests.faults.support import SHIP, Driver, Step
from tests.harness import booking, license_body
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

SHIP_IT: Step = ("ship", "alice", SHIP, "SHIPPED")
DELIVER: Step = ("deliver", "alice", None, "DELIVERED")

Served = Callable[[Driver, Settings, Client, Path], Awaitable[str]]
Timed = Callable[[WorkflowEnvironment, Settings], Awaitable[str]]


async def _dispose(driver: Driver, oid: str, user: str, decision: str, to: str) -> None:
    """One disposition per open hit of the order, all with `decision`."""
    r = await driver.http.get(f"/api/v1/orders/{oid}", headers=driver.auth("vic"))
    for hit in r.json()["screening"]["hits"]:
        body = {"entry_id": hit["entry_id"], "decision": decision, "reason": decision}
        await driver.act(oid, ("disposition", user, body, to))


async def disposition_not_a_match(driver: Driver, *_: object) -> str:
    """Listed party, every hit not a match: a red flag, so compliance review, then delivery."""
    oid = await driver.book(booking(sku="RTX-PRO-6000D", end_user=LISTED_END_USER))
    await driver.wait_state(oid, "SCREENING_REVIEW")
    await _dispose(driver, oid, "bob", "not_a_match", "COMPLIANCE_REVIEW")
    for step in [("approve", "carol", {"note": "ok"}, "READY_TO_SHIP"), SHIP_IT, DELIVER]:
        await driver.act(oid, step)
    return oid


async def disposition_escalated_then_verified(driver: Driver, *_: object) -> str:
    """One officer escalates the hit, another verifies the match: rejected."""
    oid = await driver.book(booking(end_user=LISTED_END_USER))
    await driver.wait_state(oid, "SCREENING_REVIEW")
    await _dispose(driver, oid, "bob", "escalated", "SCREENING_REVIEW")
    await _dispose(driver, oid, "carol", "verified_match", "REJECTED")
    return oid


async def recheck_after_new_snapshot(
    driver: Driver, settings: Settings, client: Client, folder: Path
) -> str:
    """Awaiting its license when a new snapshot lists its end user: the recheck signal
    re-screens it into review, and it is rejected there."""
    name = f"Recheck Example {uuid.uuid4().hex[:4].upper()} Ltd."
    oid = await driver.book(booking(end_user=name))
    await driver.wait_state(oid, "COMPLIANCE_REVIEW")
    await driver.act(oid, ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE"))
    _import_snapshot_listing(settings, folder / "recheck.csv", name)
    engine = make_engine(settings.database_url)
    try:
        assert await signal_stale(client, session_factory(engine)) >= 1
    finally:
        engine.dispose()
    await driver.wait_state(oid, "SCREENING_REVIEW")
    await driver.act(oid, ("reject", "carol", {"reason": "listed since"}, "REJECTED"))
    return oid


async def two_officer_approval(driver: Driver, *_: object) -> str:
    """USD 12 million: two distinct officers approve, then licensed, shipped, delivered."""
    oid = await driver.book(booking(quantity=1000, price="12000.00"))
    await driver.wait_state(oid, "COMPLIANCE_REVIEW")
    lic = license_body(f"R-2O-{uuid.uuid4().hex[:4]}", quantity=1000, value="13000000.00")
    for step in [
        ("approve", "bob", {"note": "first"}, "COMPLIANCE_REVIEW"),
        ("approve", "carol", {"note": "second"}, "AWAITING_LICENSE"),
        ("record-license", "carol", lic, "READY_TO_SHIP"),
        SHIP_IT,
        DELIVER,
    ]:
        await driver.act(oid, step)
    return oid


SERVED: dict[str, Served] = {
    "disposition_not_a_match": disposition_not_a_match,
    "disposition_escalated_then_verified": disposition_escalated_then_verified,
    "recheck_after_new_snapshot": recheck_after_new_snapshot,
    "two_officer_approval": two_officer_approval,
}


def _import_snapshot_listing(settings: Settings, path: Path, name: str) -> None:
    """The bundled demo list plus an entry for `name`, imported as the active snapshot."""
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with demo.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows.append({**rows[0], "_id": "recheck-1", "name": name, "alt_names": ""})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        import_list_file(session, path=path, imported_by="histories")
    engine.dispose()


BOB = Actor(user="bob", roles=frozenset({Role.COMPLIANCE}))
CAROL = Actor(user="carol", roles=frozenset({Role.COMPLIANCE}))


async def _in_review(
    env: WorkflowEnvironment, settings: Settings
) -> WorkflowHandle[object, object]:
    """An order booked straight into the database and its workflow started: in review."""
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        row = orders_repo.insert_order(
            session,
            order_id=f"ORD-H{uuid.uuid4().hex[:8].upper()}",
            booking=BookOrderRequest.model_validate(booking()),
            created_by="alice",
            idempotency_key=None,
            request_hash="histories",
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    await start_order_workflow(env.client, row, task_queue=settings.task_queue)
    handle = env.client.get_workflow_handle(workflow_id_for(row.id))
    while (await handle.query(OrderWorkflow.status)).state is not OrderState.COMPLIANCE_REVIEW:
        await env.sleep(timedelta(seconds=1))
    return handle


async def license_expiry(env: WorkflowEnvironment, settings: Settings) -> str:
    """Licensed for 30 days, never shipped: the license lapses and the order waits again;
    then BIS denies the new application."""
    handle = await _in_review(env, settings)
    await handle.execute_update(OrderWorkflow.approve, NoteCommand(actor=BOB))
    expires = (await env.get_current_time() + timedelta(days=30)).date()
    terms = LicenseBody(
        decision=LicenseDecision.APPROVED,
        license_number=f"R-EXP-{uuid.uuid4().hex[:4]}",
        approved_quantity=100,
        approved_value="10000000.00",  # type: ignore[arg-type]
        expires_on=expires,
    )
    await handle.execute_update(
        OrderWorkflow.record_license, LicenseCommand(actor=CAROL, **terms.model_dump())
    )
    await env.sleep(timedelta(days=40))
    status = await handle.query(OrderWorkflow.status)
    assert status.state is OrderState.AWAITING_LICENSE, status.state
    denied = LicenseCommand(actor=CAROL, decision=LicenseDecision.DENIED)
    await handle.execute_update(OrderWorkflow.record_license, denied)
    await handle.result()
    return handle.id


async def review_escalation(env: WorkflowEnvironment, settings: Settings) -> str:
    """Nobody reviews it for five days: the overdue review escalates; then it is rejected."""
    handle = await _in_review(env, settings)
    await env.sleep(timedelta(days=5))
    assert (await handle.query(OrderWorkflow.status)).overdue is True
    await handle.execute_update(OrderWorkflow.reject, ReasonCommand(actor=BOB, reason="late"))
    await handle.result()
    return handle.id


TIMED: dict[str, Timed] = {
    "license_expiry": license_expiry,
    "review_escalation": review_escalation,
}
