"""The soak's orders and its client: the fault tests' plans, driven through two APIs that fail.

Every plan gets its own external reference, Idempotency-Key and license numbers (the saved
paths name their licenses "H-4", "R-1", ...: shared, a suspension would reach other orders).
The basic plans of `tests.faults.support.plans` keep sharing their licenses in groups of ten,
as they do in the fault tests: concurrent draws on one license are part of what is soaked.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.faults.change_paths import REMAINDER, PathDriver
from tests.faults.record_histories import lifecycle_paths
from tests.faults.support import Plan, Step, plans

WAIT_LIMIT = 300.0  # seconds an order may take to show the state a step leads to
REQUEST_LIMIT = 180.0  # seconds one request may spend retrying and failing over
TIMEOUT = httpx.Timeout(120.0, connect=5.0)
# Not sent at all: safe to send again to the other API, whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def idempotency_key(ref: str) -> str:
    """The Idempotency-Key an order is booked under: one per external reference."""
    return f"soak-{ref}"


@dataclass
class Job:
    """One soak order: its plan, and the split remainder's steps when the plan splits it."""

    index: int
    plan: Plan
    key: str
    remainder: list[Step] | None = None


def _own_step(step: Step, suffix: str) -> Step:
    action, user, body, state = step
    number = body.get("license_number") if isinstance(body, dict) else None
    # The basic plans' licenses (FT...) are shared on purpose, within one soak only.
    if action == "record-license" and number and not number.startswith("FT"):
        body = copy.deepcopy(body) | {"license_number": f"{number}{suffix}"}
    return action, user, body, state


def soak_jobs(n: int, seed: int) -> list[Job]:
    """n orders: half the basic plans, half the saved lifecycle and order-change paths."""
    rng = random.Random(seed)
    basic, paths = plans(n, seed), lifecycle_paths()
    names = sorted(paths)
    jobs = []
    for i in range(n):
        template = basic[i] if rng.random() < 0.5 else paths[rng.choice(names)]
        plan = copy.deepcopy(template)
        suffix = f"-S{i:05d}"
        plan.body["external_ref"] = f"SOAK{seed}-{i:05d}"
        plan.steps = [_own_step(s, suffix) for s in plan.steps]
        rest = [_own_step(s, suffix) for s in REMAINDER] if plan.name == "split" else None
        jobs.append(Job(i, plan, idempotency_key(plan.body["external_ref"]), rest))
    return jobs


def path_counts(jobs: list[Job]) -> dict[str, int]:
    """How many orders take each path."""
    return dict(sorted(Counter(j.plan.name for j in jobs).items()))


@dataclass
class Seen:
    """What the clients met: 503s, requests sent again, switches to the other API."""

    unavailable: int = 0
    resent: int = 0
    failovers: int = 0
    transport_errors: int = 0
    replayed_bookings: int = 0
    action_resends: int = 0
    late_read_model: list[str] = field(default_factory=list)
    booked: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order id
    down_until: dict[int, float] = field(default_factory=dict)


class Failover(httpx.AsyncBaseTransport):
    """Sends to its own API, else the other one; resends what is safe to send again.

    A request that never left (connection refused) goes to the other API at once. A GET, or a
    booking with its Idempotency-Key, is also sent again after a 503 or a broken connection;
    any other request's 503 or broken connection is the caller's to judge.
    """

    def __init__(self, ports: list[int], primary: int, seen: Seen) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.order = [primary, *(p for p in ports if p != primary)]
        self.seen = seen

    def _port(self) -> int:
        now = time.monotonic()
        up = [p for p in self.order if self.seen.down_until.get(p, 0.0) <= now]
        return up[0] if up else self.order[0]

    def _down(self, port: int, seconds: float = 3.0) -> None:
        self.seen.down_until[port] = time.monotonic() + seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`, failing over and resending as described above."""
        await request.aread()  # a body that can be sent again
        safe = request.method == "GET" or "idempotency-key" in request.headers
        deadline = time.monotonic() + REQUEST_LIMIT
        while True:
            port = self._port()
            request.url = request.url.copy_with(port=port)
            request.headers["Host"] = f"127.0.0.1:{port}"
            last = time.monotonic() > deadline
            try:
                response = await self.inner.handle_async_request(request)
            except _NOT_SENT:
                if last:
                    raise
                self._down(port)
                self.seen.failovers += 1
                await asyncio.sleep(0.2 if self._port() != port else 1.0)
                continue
            except httpx.TransportError:
                self.seen.transport_errors += 1
                self._down(port, 1.0)
                if not safe or last:
                    raise
                self.seen.resent += 1
                await asyncio.sleep(0.2)
                continue
            if response.status_code != 503:
                return response
            self.seen.unavailable += 1
            if not safe or last:
                return response
            await response.aread()
            await response.aclose()
            self.seen.resent += 1
            await asyncio.sleep(min(float(response.headers.get("Retry-After") or 1), 2.0))

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.inner.aclose()


def client(ports: list[int], primary: int, seen: Seen) -> httpx.AsyncClient:
    """A client of the API on `primary` that fails over to the others."""
    transport = Failover(ports, primary, seen)
    return httpx.AsyncClient(
        transport=transport, base_url=f"http://127.0.0.1:{primary}", timeout=TIMEOUT
    )


class SoakDriver(PathDriver):
    """The fault tests' path driver, patient enough for a soak: every step outlives the faults.

    One per order, so that its `retries` and `unavailable` tell whether the step under way
    was sent more than once.
    """

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str], seen: Seen) -> None:
        super().__init__(http, tokens)
        self.seen = seen

    async def book(self, body: dict[str, Any]) -> str:
        """Book as alice under the order's own Idempotency-Key (resent as it is on failures)."""
        key = idempotency_key(body["external_ref"])
        headers = self.auth("alice") | {"Idempotency-Key": key}
        r = await self.http.post("/api/v1/orders", json=body, headers=headers)
        if r.status_code != 201:
            raise AssertionError(f"booking {key}: {r.status_code} {r.text}")
        if r.headers.get("Idempotent-Replayed"):
            self.seen.replayed_bookings += 1
        oid = str(r.json()["id"])
        self.seen.booked[key] = oid
        return oid

    async def wait_state(self, oid: str, state: str, timeout: float = WAIT_LIMIT) -> None:
        """Long-poll the order's watch endpoint until it shows `state`."""
        deadline = time.monotonic() + max(timeout, WAIT_LIMIT)
        after, seen = -1, "?"
        while time.monotonic() < deadline:
            params = {"after_seq": after, "timeout": 10}
            r = await self.http.get(
                f"/api/v1/orders/{oid}/watch", params=params, headers=self.auth("vic")
            )
            if r.status_code != 200:
                raise AssertionError(f"watch {oid}: {r.status_code} {r.text}")
            view = r.json()
            seen, after = view["state"], view["seq"]
            if seen == state:
                return
        raise AssertionError(f"{oid} stuck in {seen}, expected {state}")

    async def act(self, oid: str, step: Step, timeout: float = WAIT_LIMIT) -> None:
        """An order action, license action or upload; each retried through the faults."""
        action, user, body, expected = step
        if action.startswith("license:"):
            await self._license_action(oid, action.split(":")[1], user, body)
        elif action.startswith("upload:"):
            files = {"file": ("evidence.pdf", body, "application/pdf")}
            data = {"kind": action.split(":")[1]}
            await self._post(f"/api/v1/orders/{oid}/documents", user, 201, files=files, data=data)
        else:
            await self._order_action(oid, step, timeout)
            return  # PathDriver.act waited for `expected` already
        await self.wait_state(oid, expected)

    async def _order_action(self, oid: str, step: Step, timeout: float) -> None:
        sent = self.retries + self.unavailable
        try:
            await super().act(oid, step, max(timeout, WAIT_LIMIT))
        except AssertionError as exc:
            resent = self.retries + self.unavailable > sent
            if not (resent and await self._took_effect(oid, step, str(exc))):
                raise
            self.seen.late_read_model.append(f"{step[0]} on {oid}: {str(exc)[:200]}")

    async def _took_effect(self, oid: str, step: Step, refusal: str) -> bool:
        """Whether a step refused when sent again had gone through the first time.

        The workflow refuses the second attempt as soon as the first changed its state (409),
        or a shipment's ITN is filed already (422); the read model shows that change only once
        the transition's activity has written it, which after a crash can take a while.
        """
        action, _, body, expected = step
        if action == "ship" and ": 422 " in refusal and "was filed for shipment" in refusal:
            if not await self._shipment_filed(oid, body["itn"]):
                return False
        elif ": 409 " not in refusal:
            return False
        try:
            await self.wait_state(oid, expected)
        except AssertionError:
            return False
        return True

    async def _shipment_filed(self, oid: str, itn: str) -> bool:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            r = await self.http.get(f"/api/v1/orders/{oid}", headers=self.auth("vic"))
            if any(s.get("itn") == itn for s in r.json().get("shipments") or []):
                return True
            await asyncio.sleep(1.0)
        return False

    async def _post(self, url: str, user: str, ok: int, **kw: Any) -> httpx.Response:
        """POST until it answers `ok`, or 409 once a resend may have followed a success."""
        deadline = time.monotonic() + WAIT_LIMIT
        resent = False
        while time.monotonic() < deadline:
            try:
                r = await self.http.post(url, headers=self.auth(user), **kw)
            except httpx.TransportError:
                r = None
            if r is not None and (r.status_code == ok or (r.status_code == 409 and resent)):
                return r
            if r is not None and r.status_code != 503:
                raise AssertionError(f"POST {url}: {r.status_code} {r.text}")
            self.retries += 1
            resent = True
            await asyncio.sleep(0.5)
        raise AssertionError(f"POST {url} did not go through in {WAIT_LIMIT} s")

    async def _license_action(self, oid: str, kind: str, user: str, body: Any) -> None:
        """Suspend, reinstate or revoke the order's license; wait until its orders are told."""
        order = (await self.http.get(f"/api/v1/orders/{oid}", headers=self.auth("vic"))).json()
        number = order["license"]["license_number"]
        r = await self._post(f"/api/v1/licenses/{number}/{kind}", user, 202, json=body)
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            lic = await self.http.get(f"/api/v1/licenses/{number}", headers=self.auth("vic"))
            last = lic.json()["actions"][0]
            if r.status_code == 409 and last["kind"] != kind:
                raise AssertionError(f"{kind} of {number}: {r.text}")
            if last["finished_at"]:
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"the {kind} of {number} did not reach its orders")
