"""Status lookups and lists under load, vs a constant-JSON FastAPI endpoint on the same settings.

Run from the repository root: `python -m bench.lookups` (needs `wrk`: apt-get install -y wrk).
Writes bench/out/lookups-DATABASE.json (`--database sqlite|postgresql`). Both servers are
uvicorn, one process, as `exportflow api` runs; wrk uses 2 threads and 64 connections for 10 s,
on loopback.
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

import httpx

from bench import _db, wrk
from bench._stack import (
    OUT,
    Proc,
    Stack,
    exportflow_stack,
    free_port,
    loadavg,
    temporal_dev,
    wait_http,
    wait_idle,
)
from bench.drive import Driver, bounded
from bench.seed import seed_orders

LIST_FILTERS = {
    "newest": "",
    "state": "state=AWAITING_LICENSE",
    "sku": "sku=H100-SXM",
    "destination": "destination=HK",
    "q_customer": "q=quantum",
    "state+destination+sku": "state=COMPLIANCE_REVIEW&destination=CN&sku=H20",
    "rare_state+q": "state=ON_HOLD&q=apex",
}


async def _book(stack: Stack, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=stack.base, timeout=60) as http:
        driver = Driver(http, stack.tokens)
        return await bounded(n, 16, driver.book)


def _ceiling(workdir: Path, seconds: int) -> dict[str, Any]:
    port = free_port()
    proc = Proc([sys.executable, "-m", "bench.ceiling_app", str(port)], workdir / "ceiling.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/constant")
        return wrk.run(base, ["/constant"], seconds=seconds)
    finally:
        proc.stop()


def _lists(stack: Stack, seconds: int) -> dict[str, Any]:
    token = stack.tokens["vic"]
    results: dict[str, Any] = {}
    for name, query in LIST_FILTERS.items():
        path = f"/api/v1/orders?{query}&limit=50"
        results[name] = wrk.run(
            stack.base, [path], token=token, connections=1, threads=1, seconds=seconds
        )
    paths = [f"/api/v1/orders?{q}&limit=50" for q in LIST_FILTERS.values()]
    results["mixed_64_connections"] = wrk.run(stack.base, paths, token=token, seconds=seconds)
    return results


def run(workdir: Path, db: str, orders: int, seeded: int, seconds: int) -> dict[str, Any]:
    """Lookups on a fresh order book, the ceiling, then lists on `seeded` more orders."""
    with (
        _db.database(db, workdir) as url,
        temporal_dev(workdir) as (address, temporal),
        exportflow_stack(workdir, address, url) as stack,
    ):
        ids = asyncio.run(_book(stack, orders))
        settle_s = wait_idle([temporal.pid, stack.worker.pid])  # lookups read settled rows
        paths = [f"/api/v1/orders/{oid}" for oid in ids]
        lookup = wrk.run(stack.base, paths, token=stack.tokens["vic"], seconds=seconds)
        ceiling = _ceiling(workdir, seconds)
        began = time.perf_counter()
        seed_orders(url, seeded)
        seed_s = round(time.perf_counter() - began, 1)
        lookup_big = wrk.run(stack.base, paths, token=stack.tokens["vic"], seconds=seconds)
        lists = _lists(stack, seconds)
    return {
        "database": db,
        "get_order": lookup,
        "get_order_with_100k": lookup_big,
        "ceiling_constant_json": ceiling,
        "ratio_rps": round(lookup["rps"] / ceiling["rps"], 3),
        "targets": {"ratio_rps": 0.6, "get_p99_ms": 50, "list_mixed_64_p99_ms": 150},
        "seeded_orders": seeded,
        "seed_seconds": seed_s,
        "settle_seconds": settle_s,
        "lists": lists,
    }


def main() -> None:
    """Run the benchmark and write bench/out/lookups-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200, help="orders booked over HTTP")
    parser.add_argument("--seed", type=int, default=100_000, help="orders seeded in SQL")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    _db.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        load_before = loadavg()
        report = run(Path(tmp), args.database, args.orders, args.seed, args.seconds)
    report["loadavg_before_after"] = [load_before, loadavg()]
    report["command"] = "python -m bench.lookups " + " ".join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"lookups-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
