"""Order throughput and the approve round trip, exportflow over HTTP vs bare Temporal.

Run from the repository root: `python -m bench.throughput [--orders 500]`.
Writes bench/out/throughput.json. One persisted dev server (as `exportflow dev` runs it) serves
both; the baseline runs before and after exportflow so drift shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.client import Client

from bench import baseline
from bench._stack import OUT, Proc, exportflow_stack, loadavg, temporal_dev
from bench.drive import Driver, bounded, percentiles, timed_rate

BARE_QUEUE = "bench-bare"


class CpuMeter:
    """CPU seconds used by named processes between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        seconds = {}
        for name, proc in self.procs.items():
            times = proc.cpu_times()
            seconds[name] = times.user + times.system
        return seconds

    def start(self) -> None:
        """Remember where the counters are."""
        self.before = self._now()

    def stop(self, per: int) -> dict[str, float]:
        """CPU milliseconds per unit of work (e.g. per completed order), by process."""
        after = self._now()
        return {name: round((after[name] - self.before[name]) * 1000 / per, 2) for name in after}


async def measured(
    n: int, concurrency: int, one: Callable[[], Awaitable[float]], meter: CpuMeter
) -> dict[str, Any]:
    """Throughput of n runs of `one`, with CPU per completed run."""
    meter.start()
    result = await timed_rate(n, concurrency, one)
    return result | {"cpu_ms_per_order": meter.stop(n)}


async def bare_round_trips(client: Client, n: int) -> dict[str, Any]:
    """Serial approve updates on bare orders that already wait for compliance."""
    wids = await bounded(n, 16, lambda: baseline.start(client, BARE_QUEUE))
    await asyncio.sleep(3)  # the four start activities finish well within this
    return percentiles([await baseline.approve_round_trip(client, w) for w in wids])


async def exportflow_round_trips(driver: Driver, n: int) -> dict[str, Any]:
    """Serial POST .../actions/approve on orders waiting for compliance review."""
    oids = await bounded(n, 16, driver.book)
    for oid in oids:
        await driver.wait_state(oid, "COMPLIANCE_REVIEW")
    timings = []
    for oid in oids:
        began = time.perf_counter()
        await driver.act(oid, "approve", "bob", {"note": "bench"})
        timings.append(time.perf_counter() - began)
    return percentiles(timings)


async def _side_by_side(
    client: Client, driver: Driver, meter: CpuMeter, n: int, concurrency: int, trips: int
) -> dict[str, Any]:
    def bare_one() -> Awaitable[float]:
        return baseline.lifecycle(client, BARE_QUEUE)

    await bounded(20, 10, bare_one)  # warm-up, both sides
    await bounded(20, 10, driver.lifecycle)
    first = await measured(n, concurrency, bare_one, meter)
    ours = await measured(n, concurrency, driver.lifecycle, meter)
    second = await measured(n, concurrency, bare_one, meter)
    rt_bare = await bare_round_trips(client, trips)
    rt_ours = await exportflow_round_trips(driver, trips)
    base_rate = (first["per_s"] + second["per_s"]) / 2
    return {
        "throughput": {
            "baseline_before": first,
            "exportflow": ours,
            "baseline_after": second,
            "ratio": round(ours["per_s"] / base_rate, 3),
            "target_ratio": 0.7,
        },
        "approve_round_trip": {
            "baseline_update": rt_bare,
            "exportflow_http": rt_ours,
            "n": trips,
            "p50_ratio": round(rt_ours["p50_ms"] / rt_bare["p50_ms"], 2),
        },
    }


async def run(workdir: Path, n: int, concurrency: int, trips: int) -> dict[str, Any]:
    """Both sides on one dev server; the baseline before and after exportflow."""
    with temporal_dev(workdir) as (address, server):
        bare = Proc(
            [sys.executable, "-m", "bench.baseline", "worker", address, BARE_QUEUE],
            workdir / "baseline.log",
        )
        try:
            with exportflow_stack(workdir, address) as stack:
                client = await Client.connect(address)
                pids = {"temporal": server.pid, "worker": stack.worker.pid, "api": stack.api.pid}
                meter = CpuMeter(pids | {"bare_worker": bare.pid})
                limits = httpx.Limits(max_connections=concurrency)
                async with httpx.AsyncClient(base_url=stack.base, timeout=120, limits=limits) as h:
                    driver = Driver(h, stack.tokens)
                    report = await _side_by_side(client, driver, meter, n, concurrency, trips)
                    report["driver_retries"] = driver.retried
                    return report
        finally:
            bare.stop()


def main() -> None:
    """Run the benchmark and write bench/out/throughput.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--round-trips", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        load_before = loadavg()
        report = asyncio.run(run(Path(tmp), args.orders, args.concurrency, args.round_trips))
    report["loadavg_before_after"] = [load_before, loadavg()]
    report["command"] = "python -m bench.throughput " + " ".join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
