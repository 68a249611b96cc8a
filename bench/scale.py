"""How cost grows with open orders: 100, 1,000 and 10,000 orders waiting on their licenses.

Run from the repository root: `python -m bench.scale [--levels 100,1000,10000]`.
Writes bench/out/scale-DATABASE.json (`--database sqlite|postgresql`). At each level: the rate
at which the new orders were taken to
AWAITING_LICENSE, the memory of each process, their CPU while everything waits (durable waits
cost nothing: a deadline timer kept by the server, no polling) and the full-lifecycle
throughput of a probe batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench import _db
from bench._stack import OUT, Stack, exportflow_stack, loadavg, temporal_dev
from bench.drive import Driver, bounded, client_session, timed_rate

CONCURRENCY = 32


def _rss_mb(procs: dict[str, psutil.Process]) -> dict[str, float]:
    return {name: round(p.memory_info().rss / 2**20, 1) for name, p in procs.items()}


def _idle_cpu(procs: dict[str, psutil.Process], seconds: float) -> dict[str, float]:
    """Percent of one core each process used over `seconds` of nobody doing anything."""
    for p in procs.values():
        p.cpu_percent(None)
    time.sleep(seconds)
    return {name: round(p.cpu_percent(None), 2) for name, p in procs.items()}


async def _fill(driver: Driver, count: int) -> dict[str, Any]:
    began = time.perf_counter()
    await bounded(count, CONCURRENCY, driver.to_license_wait)
    wall = time.perf_counter() - began
    return {"added": count, "seconds": round(wall, 1), "per_s": round(count / wall, 2)}


async def _level(
    stack: Stack, procs: dict[str, psutil.Process], add: int, probe: int, idle: float
) -> dict[str, Any]:
    async with client_session(stack.base, CONCURRENCY) as http:
        driver = Driver(http, stack.tokens)
        fill = await _fill(driver, add)
        await asyncio.sleep(5)  # let the last transitions land
        idle_cpu = _idle_cpu(procs, idle)
        rss = _rss_mb(procs)
        lifecycle = await timed_rate(probe, CONCURRENCY, driver.lifecycle)
    return {"fill": fill, "idle_cpu_percent": idle_cpu, "rss_mb": rss, "probe": lifecycle}


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
        waiting = 0
        for level in levels:
            results[str(level)] = asyncio.run(_level(stack, procs, level - waiting, probe, idle))
            waiting = level
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
