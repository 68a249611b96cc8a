"""How cost grows with open orders waiting on their licenses (100, 1,000, 10,000 by default).

Run from the repository root: `python -m bench.scale [--levels 100,1000,10000] [--cache 1000]`.
Writes bench/out/scale-DATABASE.json (`--database sqlite|postgresql`). At each level: the rate
at which the new orders were taken to AWAITING_LICENSE, the memory of each process, their CPU
while everything waits (durable waits cost nothing: a deadline timer kept by the server, no
polling), an action (`hold`) on orders long evicted from the worker's workflow cache against
the same action on orders still in it, and the full-lifecycle throughput of a probe batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench import _db
from bench._stack import OUT, Stack, exportflow_stack, loadavg, temporal_dev
from bench.drive import Driver, bounded, client_session, percentiles, timed_rate

CONCURRENCY = 32
PROBE_ORDERS = 50  # orders per group in the evicted-vs-cached action probe


def _rss_mb(procs: dict[str, psutil.Process]) -> dict[str, float]:
    return {name: round(p.memory_info().rss / 2**20, 1) for name, p in procs.items()}


def _idle_cpu(procs: dict[str, psutil.Process], seconds: float) -> dict[str, float]:
    """Percent of one core each process used over `seconds` of nobody doing anything."""
    for p in procs.values():
        p.cpu_percent(None)
    time.sleep(seconds)
    return {name: round(p.cpu_percent(None), 2) for name, p in procs.items()}


async def _fill(driver: Driver, count: int, waiting: list[str]) -> dict[str, Any]:
    began = time.perf_counter()
    waiting += await bounded(count, CONCURRENCY, driver.to_license_wait)
    wall = time.perf_counter() - began
    return {"added": count, "seconds": round(wall, 1), "per_s": round(count / wall, 2)}


async def _hold(driver: Driver, order_id: str) -> float:
    began = time.perf_counter()
    await driver.act(order_id, "hold", "bob", {"reason": "bench: evicted or cached"})
    return time.perf_counter() - began


async def _eviction(driver: Driver, waiting: list[str], cache: int) -> dict[str, Any]:
    """An action on orders long evicted from the worker's cache vs on orders still in it."""
    if len(waiting) <= cache + 2 * PROBE_ORDERS:
        return {"skipped": f"{len(waiting)} waiting orders fit in a cache of {cache}"}
    # Alternating, one of each, so the machine's noise falls on both groups alike.
    cached_ids, evicted_ids = waiting[-PROBE_ORDERS:], waiting[:PROBE_ORDERS]  # latest, first
    took: dict[str, list[float]] = {"cached": [], "evicted": []}
    for cached_id, evicted_id in zip(cached_ids, evicted_ids, strict=True):
        took["cached"].append(await _hold(driver, cached_id))
        took["evicted"].append(await _hold(driver, evicted_id))
    for oid in cached_ids + evicted_ids:
        await driver.act(oid, "release", "bob", {"reason": "bench"})
    cached, evicted = percentiles(took["cached"]), percentiles(took["evicted"])
    ratio = evicted["p99_ms"] / cached["p99_ms"]
    return {"cached": cached, "evicted": evicted, "p99_ratio": round(ratio, 2)}


@dataclass
class Level:
    """What one level adds and measures."""

    add: int
    probe: int
    idle: float
    cache: int


async def _level(
    stack: Stack, procs: dict[str, psutil.Process], level: Level, waiting: list[str]
) -> dict[str, Any]:
    async with client_session(stack.base, CONCURRENCY) as http:
        driver = Driver(http, stack.tokens)
        fill = await _fill(driver, level.add, waiting)
        await asyncio.sleep(5)  # let the last transitions land
        idle_cpu = _idle_cpu(procs, level.idle)
        rss = _rss_mb(procs)
        eviction = await _eviction(driver, waiting, level.cache)
        lifecycle = await timed_rate(level.probe, CONCURRENCY, driver.lifecycle)
    return {
        "fill": fill,
        "idle_cpu_percent": idle_cpu,
        "rss_mb": rss,
        "rss_mb_after_probes": _rss_mb(procs),
        "action_evicted_vs_cached": eviction,
        "probe": lifecycle,
    }


def run(
    workdir: Path, db: str, levels: list[int], probe: int, idle: float, cache: int
) -> dict[str, Any]:
    """Grow the number of waiting orders level by level, measuring at each."""
    results: dict[str, Any] = {}
    with (
        _db.database(db, workdir) as url,
        temporal_dev(workdir) as (address, server),
        exportflow_stack(workdir, address, url, worker_max_cached_workflows=str(cache)) as stack,
    ):
        procs = {
            "temporal": psutil.Process(server.pid),
            "worker": psutil.Process(stack.worker.pid),
            "api": psutil.Process(stack.api.pid),
        }
        results["empty"] = {"idle_cpu_percent": _idle_cpu(procs, idle), "rss_mb": _rss_mb(procs)}
        waiting: list[str] = []
        for level in levels:
            step = Level(add=level - len(waiting), probe=probe, idle=idle, cache=cache)
            results[str(level)] = asyncio.run(_level(stack, procs, step, waiting))
            print(level, json.dumps(results[str(level)]), flush=True)
    return results


def main() -> None:
    """Run the benchmark and write bench/out/scale-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="100,1000,10000")
    parser.add_argument("--probe", type=int, default=100, help="lifecycles measured per level")
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--cache", type=int, default=20_000, help="worker's workflow cache")
    _db.add_argument(parser)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        report = {
            "database": args.database,
            "levels": run(
                Path(tmp), args.database, levels, args.probe, args.idle_seconds, args.cache
            ),
            "worker_max_cached_workflows": args.cache,
            "loadavg_after": loadavg(),
            "command": "python -m bench.scale " + " ".join(sys.argv[1:]),
        }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"scale-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
