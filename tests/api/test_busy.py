"""An action that arrives while another step of the order is being written waits for it.

A step changes the workflow's state before its activity has written the read model. An action
resent in that window (its first answer was lost) used to be refused with a 409 naming a state
`GET /orders/{id}` did not show yet. Now the API waits for the step to be written and answers
from the state everyone can see; if the write takes longer, it answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas.actions import ShipCommand
from schemas.common import Actor, Role
from schemas.workflow_io import WORKFLOW_REVISION, TransitionRecord
from services import orders_start
from services.db.store import SqlOrderStore
from tests.faults.support import SHIP
from tests.harness import ApiHarness, booking
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.usefixtures("screening_list")


class Gate:
    """Holds the write of every `approve` transition until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold(self, real: Any) -> Any:
        def record_transition(store: SqlOrderStore, rec: TransitionRecord) -> None:
            if rec.action == "approve":
                self.entered.set()
                self.opened.wait(timeout=60)
            real(store, rec)

        return record_transition


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    monkeypatch.setattr(
        SqlOrderStore, "record_transition", held.hold(SqlOrderStore.record_transition)
    )
    yield held
    held.opened.set()  # never leave an activity thread waiting


async def _approve_held(api: ApiHarness, gate: Gate) -> tuple[str, asyncio.Task[Any]]:
    """An order whose approve is being written (held at the gate)."""
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    first = asyncio.create_task(api.act(oid, "approve", "bob", {"note": "ok"}))
    assert await asyncio.to_thread(gate.entered.wait, 60), "the approve was never written"
    # The workflow now holds AWAITING_LICENSE; the read model still shows COMPLIANCE_REVIEW.
    assert (await api.get(oid))["state"] == "COMPLIANCE_REVIEW"
    return oid, first


@pytest.mark.parametrize("revision", [3, WORKFLOW_REVISION])
async def test_a_resent_action_waits_for_the_step_in_flight_then_gets_the_visible_answer(
    api: ApiHarness, gate: Gate, monkeypatch: pytest.MonkeyPatch, revision: int
) -> None:
    # Revision 3 writes with activities: the resent update reaches the validator, which answers
    # busy. From revision 4 the write is a local activity: Temporal holds the resent update
    # until the step's workflow task is done. Either way the answer waits for the write.
    monkeypatch.setattr(orders_start, "WORKFLOW_REVISION", revision)
    oid, first = await _approve_held(api, gate)

    again = asyncio.create_task(api.act(oid, "approve", "bob", {"note": "ok"}))
    await asyncio.sleep(0.3)
    assert not again.done(), "answered while the step it conflicts with was unwritten"
    gate.opened.set()
    assert (await first).status_code == 200
    answer = await again
    for _ in range(60):  # a loaded machine may take longer to finish the step: retry on 503
        if answer.status_code != 503:
            break
        await asyncio.sleep(0.5)
        answer = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert answer.status_code == 409, answer.text
    assert "AWAITING_LICENSE" in answer.json()["detail"]
    assert (await api.get(oid))["state"] == "AWAITING_LICENSE"


async def test_a_write_that_stays_held_is_a_503_to_retry(
    api: ApiHarness, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_start, "WORKFLOW_REVISION", 3)  # the write is an activity
    oid, first = await _approve_held(api, gate)

    resent = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert resent.status_code == 503, resent.text
    assert resent.headers["Retry-After"] == "1"
    assert "being recorded" in resent.json()["detail"]
    assert not first.done()
    assert (await api.get(oid))["state"] == "COMPLIANCE_REVIEW"  # nothing else happened
    gate.opened.set()
    assert (await first).status_code == 200


async def test_a_refusal_with_no_step_in_flight_is_answered_at_once(api: ApiHarness) -> None:
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {"note": "ok"})).status_code == 200

    # The read model already shows AWAITING_LICENSE: refused by the API's own check.
    r = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert r.status_code == 409, r.text
    assert "AWAITING_LICENSE" in r.json()["detail"]


async def test_a_workflow_behind_the_read_model_answers_busy(
    api: ApiHarness, temporal_client: Client
) -> None:
    # A worker that died after a step's local writes landed leaves the next one re-running the
    # step from the state before it; an action checked against the newer read model waits.
    oid = await api.book(booking())
    seq = (await api.wait_state(oid, "COMPLIANCE_REVIEW"))["seq"]
    handle = temporal_client.get_workflow_handle(workflow_id_for(oid))
    ship = ShipCommand(actor=Actor(user="alice", roles=frozenset({Role.SALES_OPS})), **SHIP)

    for read_seq, kind in ((seq + 1, "busy"), (seq, "conflict"), (None, "conflict")):
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(
                OrderWorkflow.ship, ship.model_copy(update={"read_seq": read_seq})
            )
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == kind, read_seq
