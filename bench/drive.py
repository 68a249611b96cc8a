"""Drive exportflow orders over HTTP, as a client would: book, wait for screening, act."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp
import httpx

WAIT_LIMIT = 300  # seconds an order may take to reach the state a client waits for


def booking(sku: str = "H20", quantity: int = 10) -> dict[str, Any]:
    """An H20 order to China: screening, compliance review and a license."""
    return {
        "purchaser": {"name": "Bench Cloud Co., Ltd.", "country": "CN", "address": "Shenzhen"},
        "end_user": {"name": "Bench Inference Ltd.", "country": "CN", "address": "Beijing"},
        "end_use": "commercial AI inference",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "12000.00"}],
        "requested_ship_date": (date.today() + timedelta(days=30)).isoformat(),
    }


def license_body(quantity: int = 10) -> dict[str, Any]:
    """An approved license just big enough for one order."""
    return {
        "decision": "approved",
        "license_number": f"D{uuid.uuid4().hex[:10].upper()}",
        "approved_quantity": quantity,
        "approved_value": f"{quantity * 12000}.00",
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
    }


SHIP = {"carrier": "DHL", "tracking_number": "BENCH1", "itn": "X20261128000001"}


@dataclass(frozen=True)
class Reply:
    """Status and body of one answer, whichever HTTP client fetched it."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode()

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        """Raise unless the answer is a success."""
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.text[:500]}")


def client_session(base_url: str, connections: int) -> aiohttp.ClientSession:
    """The load generator's client: aiohttp spends a fraction of httpx's CPU per request,
    which matters when the generator shares two cores with the system it measures."""
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=120)
    return aiohttp.ClientSession(base_url, connector=connector, timeout=timeout)


_BROKEN = (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)


class Driver:
    """An HTTP client of one exportflow API with tokens for alice (sales), bob (compliance)."""

    def __init__(
        self, http: httpx.AsyncClient | aiohttp.ClientSession, tokens: dict[str, str]
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.retried = 0
        self.requests = 0

    def auth(self, user: str) -> dict[str, str]:
        """Headers for `user`."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def send(self, method: str, url: str, user: str, **kw: Any) -> Reply:
        """One request; a connection the server closed under us (keep-alive race) is retried."""
        headers = self.auth(user) | kw.pop("headers", {})
        for attempt in range(3):
            self.requests += 1
            try:
                return await self._request(method, url, headers, **kw)
            except (*_BROKEN, aiohttp.ClientConnectionError):
                if attempt == 2:
                    raise
                self.retried += 1
        raise AssertionError("unreachable")

    async def _request(self, method: str, url: str, headers: dict[str, str], **kw: Any) -> Reply:
        if isinstance(self.http, httpx.AsyncClient):
            r = await self.http.request(method, url, headers=headers, **kw)
            return Reply(r.status_code, r.content)
        params = {k: str(v) for k, v in kw.pop("params", {}).items()}
        async with self.http.request(method, url, headers=headers, params=params, **kw) as r:
            return Reply(r.status, await r.read())

    async def book(self, body: dict[str, Any] | None = None) -> str:
        """Book an order; its id. The Idempotency-Key makes a retried booking safe."""
        key = {"Idempotency-Key": uuid.uuid4().hex}
        r = await self.send("POST", "/api/v1/orders", "alice", json=body or booking(), headers=key)
        r.raise_for_status()
        return str(r.json()["id"])

    async def wait_state(self, oid: str, state: str, after_seq: int = -1) -> None:
        """Wait until the order is in `state`: long polls on its watch endpoint."""
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            params = {"after_seq": after_seq, "timeout": 20}
            r = await self.send("GET", f"/api/v1/orders/{oid}/watch", "alice", params=params)
            r.raise_for_status()
            view = r.json()
            if view["state"] == state:
                return
            after_seq = view["seq"]
        raise TimeoutError(f"{oid} never reached {state}")

    async def act(self, oid: str, action: str, user: str, body: Any = None) -> None:
        """One action; raises unless it answered 200."""
        retried = self.retried
        r = await self.send("POST", f"/api/v1/orders/{oid}/actions/{action}", user, json=body)
        if r.status_code == 409 and self.retried > retried:
            return  # the first attempt went through before the connection broke
        if r.status_code != 200:
            raise RuntimeError(f"{action} on {oid}: {r.status_code} {r.text}")

    async def to_license_wait(self) -> str:
        """Book an order and approve it: it then waits for BIS's license decision."""
        oid = await self.book()
        await self.wait_state(oid, "COMPLIANCE_REVIEW", after_seq=0)
        await self.act(oid, "approve", "bob", {"note": "bench"})
        return oid

    async def lifecycle(self) -> float:
        """Book an H20 order and take it to delivery; seconds it took."""
        began = time.perf_counter()
        oid = await self.to_license_wait()
        await self.act(oid, "record-license", "bob", license_body())
        await self.act(oid, "ship", "alice", SHIP)
        await self.act(oid, "deliver", "alice")
        return time.perf_counter() - began


async def bounded(n: int, concurrency: int, one: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run `one()` n times with at most `concurrency` at once; the results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def run() -> Any:
        async with gate:
            return await one()

    return list(await asyncio.gather(*(run() for _ in range(n))))


async def timed_rate(
    n: int, concurrency: int, one: Callable[[], Awaitable[float]]
) -> dict[str, Any]:
    """n runs of `one` (which returns its own latency): completed per second and latencies."""
    began = time.perf_counter()
    latencies = await bounded(n, concurrency, one)
    wall = time.perf_counter() - began
    rate = {"n": n, "concurrency": concurrency, "seconds": round(wall, 2)}
    return rate | {"per_s": round(n / wall, 2)} | percentiles(latencies)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p99/max of latencies given in seconds, in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(ms[-1], 1),
    }
