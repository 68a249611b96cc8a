"""Order throughput and the approve round trip, exportflow over HTTP vs bare Temporal.

Run from the repository root: `python -m bench.throughput [--orders 500]`.
Writes bench/out/throughput-DATABASE.json (`--database sqlite|postgresql`). One persisted dev
server (as `exportflow dev` runs it) serves both sides, which take turns in alternating rounds
(`--rounds`, A B then B A) so that the drift of a shared machine and of Temporal's growing
database falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from temporalio.client import Client

from bench import _db, baseline
from bench._stack import OUT, Proc, exportflow_stack, loadavg, temporal_dev, wait_idle
from bench.drive import Driver, bounded, client_session, percentiles

BARE_QUEUE = "bench-bare"
TIMER_TAIL_SECONDS = 16.0


def postmaster() -> psutil.Process | None:
    """The local PostgreSQL server's parent process, when one runs on this machine."""
    for proc in psutil.process_iter(["name", "ppid"]):
        if proc.info["name"] not in {"postgres", "postmaster"}:
            continue
        with contextlib.suppress(psutil.Error):
            if psutil.Process(proc.info["ppid"]).name() not in {"postgres", "postmaster"}:
                return proc
    return None


def _tree_seconds(root: psutil.Process) -> float:
    """CPU seconds of a server and all its backends, the exited ones included."""
    times = root.cpu_times()
    total = float(times.user + times.system + times.children_user + times.children_system)
    for child in root.children():
        with contextlib.suppress(psutil.Error):  # a backend that just exited
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return total


class CpuMeter:
    """CPU seconds used by named processes between `start()` and `stop()`.

    `trees` are servers counted with all their child processes (PostgreSQL's backends).
    """

    def __init__(self, pids: dict[str, int], trees: dict[str, psutil.Process] | None = None):
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.trees = trees or {}
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        seconds = {}
        for name, proc in self.procs.items():
            times = proc.cpu_times()
            seconds[name] = times.user + times.system
        for name, root in self.trees.items():
            seconds[name] = _tree_seconds(root)
        return seconds

    def start(self) -> None:
        """Remember where the counters are."""
        self.before = self._now()

    def stop(self, per: int) -> dict[str, float]:
        """CPU milliseconds per unit of work (e.g. per completed order), by process."""
        after = self._now()
        return {name: round((after[name] - self.before[name]) * 1000 / per, 2) for name in after}


@dataclass
class Side:
    """What one side did over all its rounds."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_ms: Counter[str] = field(default_factory=Counter)
    rates: list[float] = field(default_factory=list)

    def summary(self, concurrency: int) -> dict[str, Any]:
        """Completed orders per second over all rounds, latencies, CPU per order."""
        n = len(self.latencies)
        cpu = {name: round(ms / n, 2) for name, ms in self.cpu_ms.items()}
        rate = {"n": n, "concurrency": concurrency, "seconds": round(self.seconds, 2)}
        rate |= {"per_s": round(n / self.seconds, 2), "per_s_by_round": self.rates}
        return rate | percentiles(self.latencies) | {"cpu_ms_per_order": cpu}


async def phase(
    side: Side, n: int, concurrency: int, one: Callable[[], Awaitable[float]], meter: CpuMeter
) -> None:
    """n runs of `one` added to `side`.

    Each phase starts on a quiet machine, and its CPU is counted until the work it left behind
    (Temporal's timeout timers and queues, the worker's last tasks) is done: neither side pays
    for the other's tail. The rate is over the phase's own wall time.
    """
    servers = [p.pid for p in meter.procs.values() if p.pid != os.getpid()]
    await asyncio.to_thread(wait_idle, servers)
    meter.start()
    began = time.perf_counter()
    side.latencies += await bounded(n, concurrency, one)
    wall = time.perf_counter() - began
    # Temporal fires a timeout timer for every workflow task (10 s) and activity (15 s) even
    # when they completed long before; those land here, not in the next phase's CPU.
    await asyncio.sleep(TIMER_TAIL_SECONDS)
    await asyncio.to_thread(wait_idle, servers)
    side.seconds += wall
    side.rates.append(round(n / wall, 2))
    side.cpu_ms.update(meter.stop(1))


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
    client: Client, driver: Driver, meter: CpuMeter, n: int, rounds: int, concurrency: int
) -> dict[str, Any]:
    def bare_one() -> Awaitable[float]:
        return baseline.lifecycle(client, BARE_QUEUE)

    await bounded(20, 10, bare_one)  # warm-up, both sides
    await bounded(20, 10, driver.lifecycle)
    sides = {"baseline": (Side(), bare_one), "exportflow": (Side(), driver.lifecycle)}
    sent = driver.requests
    for r in range(rounds):
        # Alternating order (A B, B A, ...) cancels the drift of a growing Temporal database
        # and of a shared machine: both sides run early and late alike.
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            side, one = sides[name]
            await phase(side, n // rounds, concurrency, one, meter)
    base = sides["baseline"][0].summary(concurrency)
    ours = sides["exportflow"][0].summary(concurrency)
    ours["http_requests_per_order"] = round((driver.requests - sent) / ours["n"], 1)
    by_round = zip(ours["per_s_by_round"], base["per_s_by_round"], strict=True)
    return {
        "baseline": base,
        "exportflow": ours,
        "rounds": rounds,
        "ratio": round(ours["per_s"] / base["per_s"], 3),
        "ratio_by_round": [round(o / b, 3) for o, b in by_round],
        "target_ratio": 0.85,
    }


async def _round_trips(client: Client, driver: Driver, trips: int) -> dict[str, Any]:
    rt_bare = await bare_round_trips(client, trips)
    rt_ours = await exportflow_round_trips(driver, trips)
    return {
        "baseline_update": rt_bare,
        "exportflow_http": rt_ours,
        "n": trips,
        "p50_ratio": round(rt_ours["p50_ms"] / rt_bare["p50_ms"], 2),
    }


async def run(
    workdir: Path, db: str, n: int, rounds: int, concurrency: int, trips: int
) -> dict[str, Any]:
    """Both sides on one dev server, in alternating rounds."""
    with _db.database(db, workdir) as url, temporal_dev(workdir) as (address, server):
        bare = Proc(
            [sys.executable, "-m", "bench.baseline", "worker", address, BARE_QUEUE],
            workdir / "baseline.log",
        )
        try:
            with exportflow_stack(workdir, address, url) as stack:
                client = await Client.connect(address)
                pids = {"temporal": server.pid, "worker": stack.worker.pid, "api": stack.api.pid}
                pg = postmaster() if db == "postgresql" else None
                meter = CpuMeter(
                    pids | {"bare_worker": bare.pid, "load_generator": os.getpid()},
                    {"postgresql": pg} if pg is not None else None,
                )
                async with client_session(stack.base, concurrency) as http:
                    driver = Driver(http, stack.tokens)
                    tp = await _side_by_side(client, driver, meter, n, rounds, concurrency)
                    trips_report = await _round_trips(client, driver, trips)
                    return {
                        "database": db,
                        "throughput": tp,
                        "approve_round_trip": trips_report,
                        "driver_retries": driver.retried,
                    }
        finally:
            bare.stop()


def main() -> None:
    """Run the benchmark and write bench/out/throughput-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500, help="orders per side")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per side")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--round-trips", type=int, default=200)
    _db.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        load_before = loadavg()
        report = asyncio.run(
            run(
                Path(tmp),
                args.database,
                args.orders,
                args.rounds,
                args.concurrency,
                args.round_trips,
            )
        )
    report["loadavg_before_after"] = [load_before, loadavg()]
    report["command"] = "python -m bench.throughput " + " ".join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"throughput-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
