"""The activation fan-out at 10,000 open orders, with status lookups measured while it runs."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import create_engine, text

from bench._stack import Stack, exportflow, exportflow_stack, loadavg, temporal_dev
from bench.drive import client_session, percentiles
from services.orders_import import COLUMNS

SKUS = (
    ("H20", "12000.00"),
    ("H20", "12000.00"),
    ("RTX-PRO-6000D", "8500.00"),
    ("H200", "30000.00"),
)
DESTINATIONS = ("CN", "CN", "HK", "SG", "DE", "AE")
LOOKERS = 8  # status lookups in flight at once


def order_book(count: int, seed: int = 5) -> bytes:
    """`count` one-line orders: H20, RTX PRO and H200 to China and elsewhere."""
    rng = random.Random(seed)
    ship = (date.today() + timedelta(days=60)).isoformat()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n in range(count):
        sku, price = rng.choice(SKUS)
        writer.writerow(
            [
                f"FANOUT-{n:06d}",
                f"Bench Cloud {n % 97} Co., Ltd.",
                "CN",
                "Shenzhen",
                f"Bench Inference {n % 211} Ltd.",
                rng.choice(DESTINATIONS),
                "",
                "AI inference",
                ship,
                sku,
                rng.randint(1, 64),
                price,
            ]
        )
    return out.getvalue().encode()


def _query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


async def settle(url: str, timeout: float) -> float:
    """Seconds until no order is booked or being screened any more."""
    began = time.perf_counter()
    sql = "SELECT count(*) FROM orders WHERE state IN ('BOOKED', 'SCREENING')"
    while _query(url, sql)[0][0] and time.perf_counter() - began < timeout:
        await asyncio.sleep(5)
    return round(time.perf_counter() - began, 1)


class Lookups:
    """`GET /orders/{id}` for random open orders, `LOOKERS` at a time, until stopped."""

    def __init__(self, stack: Stack, ids: list[str]) -> None:
        self.stack, self.ids = stack, ids
        self.seconds: list[float] = []
        self.failures = 0
        self.stop = asyncio.Event()

    async def _one(self, http: aiohttp.ClientSession) -> None:
        headers = self.stack.auth("vic")
        while not self.stop.is_set():
            began = time.perf_counter()
            async with http.get(f"/api/v1/orders/{random.choice(self.ids)}", headers=headers) as r:
                await r.read()
                self.failures += r.status != 200
            self.seconds.append(time.perf_counter() - began)

    async def run(self) -> dict[str, Any]:
        """Look up until `stop` is set; rate and latency percentiles."""
        began = time.perf_counter()
        async with client_session(self.stack.base, LOOKERS) as http:
            await asyncio.gather(*(self._one(http) for _ in range(LOOKERS)))
        took = time.perf_counter() - began
        return {
            "requests": len(self.seconds),
            "failures": self.failures,
            "rps": round(len(self.seconds) / took, 1),
            **percentiles(self.seconds),
        }


async def _measure_quiet(stack: Stack, ids: list[str], seconds: float) -> dict[str, Any]:
    probe = Lookups(stack, ids)
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(seconds)
    probe.stop.set()
    return await task


async def _until_fanned_out(http: httpx.AsyncClient, stack: Stack, version: str) -> dict[str, Any]:
    while True:
        found = (await http.get(f"/api/v1/rulesets/{version}", headers=stack.auth("vic"))).json()
        if (found.get("fan_out") or {}).get("finished_at"):
            return dict(found["fan_out"])
        await asyncio.sleep(1)


async def _until_applied(url: str, version: str, changed: int, timeout: float) -> int:
    sql = "SELECT count(*) FROM orders WHERE ruleset_version = :v"
    began = time.perf_counter()
    while (done := _query(url, sql, v=version)[0][0]) < changed:
        if time.perf_counter() - began > timeout:
            return int(done)
        await asyncio.sleep(1)
    return int(done)


async def _activate(stack: Stack, url: str, body: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    version = body["ruleset"]["version"]
    async with httpx.AsyncClient(base_url=stack.base, timeout=1800) as http:
        r = await http.post("/api/v1/rulesets", json=body, headers=stack.auth("bob"))
        r.raise_for_status()
        began = time.perf_counter()
        r = await http.get(f"/api/v1/rulesets/{version}/impact", headers=stack.auth("vic"))
        preview = {
            "wall_s": round(time.perf_counter() - began, 2),
            "bytes": len(r.content),
            "changed": r.json()["changed_orders"],
            "open_orders": r.json()["open_orders"],
        }
        quiet = await _measure_quiet(stack, ids, 20)
        probe = Lookups(stack, ids)
        task = asyncio.create_task(probe.run())
        began = time.perf_counter()
        for officer in ("carol", "dave"):
            r = await http.post(f"/api/v1/rulesets/{version}/approve", headers=stack.auth(officer))
            r.raise_for_status()
        fan_out = await _until_fanned_out(http, stack, version)
        fanned = round(time.perf_counter() - began, 1)
        applied = await _until_applied(url, version, fan_out["changed"], 3600)
        landed = round(time.perf_counter() - began, 1)
        probe.stop.set()
        during = await task
    return {
        "preview_over_api_with_workflows": preview,
        "fan_out": fan_out,
        "fan_out_s": fanned,
        "all_changes_recorded_s": landed,
        "orders_changed": applied,
        "lookups_before": quiet,
        "lookups_during_fan_out": during,
    }


async def fan_out_phase(url: str, orders: int, work: Path, body: dict[str, Any]) -> dict[str, Any]:
    """Book `orders` through real workflows, then activate `body` and measure."""
    with (
        temporal_dev(work) as (address, _),
        exportflow_stack(
            work, address, database_url=url, worker_max_cached_workflows="20000"
        ) as stack,
    ):
        for officer in ("carol", "dave"):
            stack.tokens[officer] = exportflow(
                ["token", "create", "--user", officer, "--role", "compliance"], stack.env
            ).strip()
        load = [loadavg()]
        began = time.perf_counter()
        r = httpx.post(
            stack.base + "/api/v1/orders/import",
            headers=stack.auth("alice"),
            files={"file": ("book.csv", order_book(orders), "text/csv")},
            timeout=3600,
        )
        r.raise_for_status()
        booked = round(time.perf_counter() - began, 1)
        settled = await settle(url, 7200)
        ids = [row[0] for row in _query(url, "SELECT id FROM orders")]
        result = await _activate(stack, url, body, ids)
        load.append(loadavg())
    return {
        "orders": orders,
        "import_s": booked,
        "screened_and_determined_s": settled,
        **result,
        "loadavg_before_after": load,
    }
