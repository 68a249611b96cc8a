"""Random sequences of actions by random users, through the API, on real Temporal and DB.

A hypothesis state machine books orders and fires actions as sales ops (alice), two compliance
officers (bob, carol), a viewer (vic) and a user with both roles (dave). Each answer is checked
against the pure rules (a refusal by the rules must be the same refusal over HTTP, and nothing
is ever a 5xx), and after every step the database invariants must hold: never shipped without a
valid license draw, never reserved beyond a license, never decided by the booker, and the audit
trail contiguous and matching the read model.

The machine is synchronous; it runs in a thread and sends each request to the session's event
loop, where the in-process API and worker live.

Two settings profiles, chosen with EXPORTFLOW_HYPOTHESIS_PROFILE: `ci` (the default: 10 runs
of 15 steps, the same every time) and `soak` (50 runs of 100 steps, random, about an hour
here). A failure the soak finds is saved, shrunk, in tests/faults/hypothesis-regressions/
(commit it): every run, CI included, replays the saved failures first.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ReadOnlyDatabase
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine

from schemas.actions import Action
from schemas.common import Actor
from schemas.orders import OrderState
from services.api.errors import STATUS_FOR_REFUSAL
from services.demo import LISTED_END_USER
from tests.faults import invariants
from tests.faults.support import SHIP
from tests.harness import USERS, ApiHarness, booking, license_body
from workflows.rules.transitions import OrderFacts, Refusal, check_action

SOAK = os.environ.get("EXPORTFLOW_HYPOTHESIS_PROFILE") == "soak"
pytestmark = [pytest.mark.faults, pytest.mark.timeout(6 * 3600 if SOAK else 400)]

ACTIONS = [a for a in Action if a is not Action.DISPOSITION]
LICENSES = [
    license_body("SM-1", quantity=25, value="1000000.00"),
    license_body("SM-2", quantity=25, value="1000000.00"),
    {"decision": "denied"},
    {"decision": "returned"},
]
BOOKINGS = {
    "h20": booking(sku="H20"),
    "nlr": booking(sku="RTX-PRO-6000D"),
    "listed": booking(sku="H20", end_user=LISTED_END_USER),
}


REGRESSIONS = Path(__file__).parent / "hypothesis-regressions"
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=10,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,  # the same sequences every run: CI cannot turn red by chance
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "soak",
    max_examples=50,
    stateful_step_count=100,
    deadline=None,
    database=DirectoryBasedExampleDatabase(REGRESSIONS),  # where a failure found is kept
    suppress_health_check=_SLOW_IS_FINE,
)
# Only the saved failures, read-only: a regression found by a soak fails every run after it.
REPLAY = settings(
    deadline=None,
    database=ReadOnlyDatabase(DirectoryBasedExampleDatabase(REGRESSIONS)),
    phases=[Phase.reuse],
    suppress_health_check=_SLOW_IS_FINE,
)


def profile() -> settings:
    """`soak` when EXPORTFLOW_HYPOTHESIS_PROFILE says so, else `ci`."""
    return settings.get_profile("soak" if SOAK else "ci")


class World:
    """What the machine talks to: the API on the test's event loop, and the database."""

    def __init__(self, api: ApiHarness, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.api, self.engine, self.loop = api, engine, loop
        self.answers: Counter[int] = Counter()
        self.steps = self.checks = self.booked = 0

    def call(self, coro: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        """Run one request on the API's loop and wait for its answer."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def order(self, oid: str) -> dict[str, Any]:
        """The order as a viewer sees it."""
        r = self.call(self.api.http.get(f"/api/v1/orders/{oid}", headers=self.api.auth("vic")))
        assert r.status_code == 200, r.text
        return dict(r.json())


WORLD: list[World] = []


def _body(action: Action, lic: dict[str, Any]) -> Any:
    bodies = {
        Action.APPROVE: {"note": "ok"},
        Action.RECORD_LICENSE: lic,
        Action.SHIP: SHIP,
        Action.DELIVER: None,
    }
    return bodies.get(action, {"reason": "property test"})


def _expected_refusal(order: dict[str, Any], action: Action, user: str) -> int | None:
    actor = Actor(user=user, roles=frozenset(USERS[user]))
    lic = order.get("license")
    facts = OrderFacts(
        state=OrderState(order["state"]),
        held_from=OrderState(order["held_from"]) if order.get("held_from") else None,
        booked_by=order["created_by"],
        license_expires_on=datetime.fromisoformat(lic["expires_on"]).date() if lic else None,
        approved_by=frozenset(a["by"] for a in order.get("approvals", [])),
    )
    try:
        check_action(facts, action, actor, datetime.now(UTC).date())
    except Refusal as refusal:
        return STATUS_FOR_REFUSAL[refusal.kind]
    return None


def _action_and_user(order: dict[str, Any]) -> st.SearchStrategy[tuple[Action, str]]:
    """Half the time what the order waits for, by someone holding the role; else anything."""
    anything = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(sorted(USERS)))
    waiting = order.get("waiting_for")
    if not waiting:
        return anything
    holders = sorted(u for u, roles in USERS.items() if waiting["role"] in {r.value for r in roles})
    expected = st.tuples(
        st.sampled_from([Action(a) for a in waiting["actions"] if a in set(ACTIONS)] or ACTIONS),
        st.sampled_from(holders),
    )
    return st.one_of(expected, anything)


class OrderMachine(RuleBasedStateMachine):
    """Books orders and acts on them; the invariants are checked after every step."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.world = WORLD[0]

    @rule(
        target=orders, user=st.sampled_from(sorted(USERS)), kind=st.sampled_from(sorted(BOOKINGS))
    )
    def book(self, user: str, kind: str) -> Any:
        api = self.world.api
        self.world.steps += 1
        r = self.world.call(
            api.http.post("/api/v1/orders", json=BOOKINGS[kind], headers=api.auth(user))
        )
        if "sales_ops" not in {role.value for role in USERS[user]}:
            assert r.status_code == 403, r.text
            return multiple()
        assert r.status_code == 201, r.text
        self.world.booked += 1
        oid = str(r.json()["id"])
        deadline = time.monotonic() + 120
        while self.world.order(oid)["state"] in ("BOOKED", "SCREENING"):
            assert time.monotonic() < deadline, f"{oid} never left screening"
            time.sleep(0.05)
        return oid

    @rule(oid=orders, data=st.data(), lic=st.sampled_from(LICENSES))
    def act(self, oid: str, data: st.DataObject, lic: dict[str, Any]) -> None:
        api = self.world.api
        self.world.steps += 1
        before = self.world.order(oid)
        action, user = data.draw(_action_and_user(before))
        refusal = _expected_refusal(before, action, user)
        url = f"/api/v1/orders/{oid}/actions/{action.value}"
        r = self.world.call(api.http.post(url, json=_body(action, lic), headers=api.auth(user)))
        self.world.answers[r.status_code] += 1
        if r.status_code == 503:  # no worker confirmed it in time (a busy machine): asked
            assert "may still take effect" in r.text, r.text  # to look, nothing else
            return
        assert r.status_code < 500, r.text
        if refusal is not None:
            assert r.status_code == refusal, (before["state"], action, user, r.text)
        else:
            assert r.status_code in (200, 409), (before["state"], action, user, r.text)
        if r.status_code == 200:
            assert self.world.order(oid)["state"] == r.json()["state"]

    @invariant()
    def database_invariants_hold(self) -> None:
        self.world.checks += 1
        assert invariants.problems(self.world.engine) == []


async def test_random_actions_by_random_users_keep_every_invariant(
    inproc_api: ApiHarness, fault_engine: Engine
) -> None:
    WORLD[:] = [World(inproc_api, fault_engine, asyncio.get_running_loop())]
    config = profile()
    began = time.monotonic()
    try:
        if any(path.is_dir() for path in REGRESSIONS.iterdir()):  # else nothing to replay
            await asyncio.to_thread(run_state_machine_as_test, OrderMachine, settings=REPLAY)
        await asyncio.to_thread(run_state_machine_as_test, OrderMachine, settings=config)
        world = WORLD[0]
    finally:
        WORLD.clear()
    # The figures of the run (the soak's are reported in bench/RESULTS.md).
    print(
        f"profile {config.max_examples} x {config.stateful_step_count}: {world.steps} steps, "
        f"{world.checks} invariant checks, {world.booked} orders booked, answers to actions "
        f"{dict(sorted(world.answers.items()))}, {time.monotonic() - began:.0f} s"
    )
    # The machine got both through and refused: it explored, not just bounced off the rules.
    assert world.answers[200] >= 5, world.answers
    assert world.answers[403], world.answers
    assert world.answers[409], world.answers
    assert world.checks >= world.steps  # after every step (and at the start of each run)
