"""Order plans and a patient driver for fault tests: it retries what a fault interrupted.

A plan is a booking plus the actions that take it to a known end state. The driver retries an
action answered 503 (Temporal unreachable) or cut off in transit; a 409 on a retry is accepted
when the order already shows the state the action leads to, because the first attempt may have
gone through before the fault hid its answer.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.harness import booking, license_body

SHIP = {"carrier": "DHL", "tracking_number": "FT1", "itn": "X20261128000001"}
Step = tuple[str, str, Any, str]  # action, user, body, state it leads to


@dataclass
class Plan:
    """One order: what to book, where screening leaves it, and the steps to its end."""

    name: str
    body: dict[str, Any]
    first: str
    steps: list[Step] = field(default_factory=list)

    @property
    def end(self) -> str:
        """The state the order must end in."""
        return self.steps[-1][3] if self.steps else self.first


def plans(n: int, seed: int, group: int = 10) -> list[Plan]:
    """n orders over every path; H20 orders share licenses in groups of `group`."""
    rng = random.Random(seed)
    made: list[Plan] = []
    for i in range(n):
        lic = license_body(f"FT{seed}-{i // group:04d}", quantity=10 * group, value="50000000.00")
        approve: Step = ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE")
        record: Step = ("record-license", "carol", lic, "READY_TO_SHIP")
        ship: Step = ("ship", "alice", SHIP, "SHIPPED")
        deliver: Step = ("deliver", "alice", None, "DELIVERED")
        kind = rng.choice(["h20", "h20", "h20", "nlr", "reject", "deny", "cancel"])
        h20 = booking(sku="H20", ref=f"FT-{i}")
        if kind == "h20":
            made.append(Plan(kind, h20, "COMPLIANCE_REVIEW", [approve, record, ship, deliver]))
        elif kind == "nlr":
            body = booking(sku="RTX-PRO-6000D", ref=f"FT-{i}")
            made.append(Plan(kind, body, "READY_TO_SHIP", [ship, deliver]))
        elif kind == "reject":
            steps: list[Step] = [("reject", "carol", {"reason": "end use"}, "REJECTED")]
            made.append(Plan(kind, h20, "COMPLIANCE_REVIEW", steps))
        elif kind == "deny":
            denied = ("record-license", "bob", {"decision": "denied"}, "LICENSE_DENIED")
            made.append(Plan(kind, h20, "COMPLIANCE_REVIEW", [approve, denied]))
        else:
            cancel = ("cancel", "alice", {"reason": "customer withdrew"}, "CANCELLED")
            made.append(Plan(kind, h20, "COMPLIANCE_REVIEW", [approve, record, cancel]))
    return made


class Driver:
    """Drives plans over HTTP as the users of tests.harness."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.tokens = tokens
        self.retries = 0
        self.unavailable = 0

    def auth(self, user: str) -> dict[str, str]:
        """Headers for `user`."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def state(self, oid: str) -> str:
        """The order's state in the read model."""
        r = await self.http.get(f"/api/v1/orders/{oid}", headers=self.auth("vic"))
        assert r.status_code == 200, r.text
        return str(r.json()["state"])

    async def wait_state(self, oid: str, state: str, timeout: float = 150) -> None:
        """Poll until the order is in `state`."""
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = await self.state(oid)
            if seen == state:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{oid} stuck in {seen}, expected {state}")

    async def book(self, body: dict[str, Any]) -> str:
        """Book as alice; bookings are accepted even while Temporal is down."""
        r = await self.http.post("/api/v1/orders", json=body, headers=self.auth("alice"))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def act(self, oid: str, step: Step, timeout: float = 150) -> None:
        """Take one step, retrying what a fault interrupted, until the order shows its state."""
        action, user, body, expected = step
        deadline = time.monotonic() + timeout
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            try:
                r = await self.http.post(
                    f"/api/v1/orders/{oid}/actions/{action}", json=body, headers=self.auth(user)
                )
            except httpx.TransportError:
                self.retries += 1
                continue
            if r.status_code == 200:
                return
            if r.status_code == 503:
                assert r.headers.get("Retry-After"), r.headers
                self.unavailable += 1
                await asyncio.sleep(0.5)
                continue
            if r.status_code == 409 and attempt > 1 and await self.state(oid) == expected:
                return
            raise AssertionError(f"{action} on {oid}: {r.status_code} {r.text}")
        raise AssertionError(f"{action} on {oid} did not go through in {timeout} s")

    async def run(self, plan: Plan) -> tuple[str, str]:
        """Book and take the order to its end; (order id, plan name)."""
        oid = await self.book(plan.body)
        await self.wait_state(oid, plan.first)
        for step in plan.steps:
            await self.act(oid, step)
        await self.wait_state(oid, plan.end, timeout=30)
        return oid, plan.name


async def run_all(driver: Driver, todo: list[Plan], concurrency: int) -> list[tuple[str, str]]:
    """Run every plan, at most `concurrency` at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(plan: Plan) -> tuple[str, str]:
        async with gate:
            return await driver.run(plan)

    return list(await asyncio.gather(*(one(p) for p in todo)))
