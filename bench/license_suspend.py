"""Suspend a license with N orders drawing on it: how long until all N are ON_HOLD.

`python -m bench.license_suspend --orders 1000 --database sqlite|postgresql` starts a persisted
Temporal dev server, exportflow's worker and API as processes, books N H20 orders, approves
them and draws each on one shared license (all READY_TO_SHIP), then suspends the license over
the API and measures until the suspension's fan-out has finished and every order reads
ON_HOLD; then the same for reinstating it (every order READY_TO_SHIP again). Writes
bench/out/license-suspend-DATABASE.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import _db
from bench._stack import OUT, exportflow_stack, loadavg, temporal_dev, wait_idle
from bench.drive import Driver, booking, bounded, client_session

NUMBER = "DBENCH00001"


def _license(n: int) -> dict[str, Any]:
    """One license for all the orders: 10 H20 each."""
    return {
        "license_number": NUMBER,
        "licensee": "Bench Exporter Inc.",
        "ultimate_consignee": {"name": "Bench Inference Ltd.", "country": "CN"},
        "destination": "CN",
        "lines": [
            {"sku": "H20", "approved_quantity": 10 * n, "approved_value": f"{120000 * n}.00"}
        ],
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
    }


async def _drawn(driver: Driver) -> str:
    """An order approved and drawn on the shared license: READY_TO_SHIP."""
    oid = await driver.book(booking())
    await driver.wait_state(oid, "COMPLIANCE_REVIEW", after_seq=0)
    await driver.act(oid, "approve", "bob", {"note": "bench"})
    await driver.act(
        oid, "record-license", "bob", {"decision": "approved", "license_number": NUMBER}
    )
    return oid


async def _states(driver: Driver, ids: list[str], concurrency: int) -> dict[str, int]:
    """How many of the orders are in each state (read model)."""
    it = iter(ids)

    async def one() -> str:
        r = await driver.send("GET", f"/api/v1/orders/{next(it)}", "vic")
        return str(r.json()["state"])

    counts: dict[str, int] = {}
    for state in await bounded(len(ids), concurrency, one):
        counts[state] = counts.get(state, 0) + 1
    return counts


async def _take(driver: Driver, kind: str, ids: list[str], want: str) -> dict[str, Any]:
    """Suspend or reinstate; seconds until the fan-out finished and every order is `want`."""
    began = time.perf_counter()
    r = await driver.send(
        "POST", f"/api/v1/licenses/{NUMBER}/{kind}", "bob", json={"reason": "bench"}
    )
    assert r.status_code == 202, r.text
    accepted = time.perf_counter() - began
    progress = []
    while True:
        lic = (await driver.send("GET", f"/api/v1/licenses/{NUMBER}", "vic")).json()
        action = lic["actions"][0]
        progress.append((round(time.perf_counter() - began, 1), action["done"]))
        if action["finished_at"]:
            break
        await asyncio.sleep(0.5)
    fanned = time.perf_counter() - began
    states = await _states(driver, ids, 16)
    outcomes: dict[str, int] = {}
    for line in action["results"]:
        outcomes[line["outcome"]] = outcomes.get(line["outcome"], 0) + 1
    return {
        "orders": len(ids),
        "answered_202_s": round(accepted, 3),
        "fan_out_s": round(fanned, 1),
        "orders_per_s": round(len(ids) / fanned, 1),
        "total": action["total"],
        "done": action["done"],
        "result_lines": outcomes,
        "states_after": states,
        "all_in_state": states.get(want, 0) == len(ids),
        "progress_samples": progress[:: max(1, len(progress) // 20)],
    }


async def run(workdir: Path, db: str, n: int, concurrency: int) -> dict[str, Any]:
    """Set up N orders on one license, then suspend and reinstate it."""
    with (
        _db.database(db, workdir) as url,
        temporal_dev(workdir) as (address, server),
        exportflow_stack(workdir, address, url) as stack,
    ):
        async with client_session(stack.base, concurrency) as http:
            driver = Driver(http, stack.tokens)
            r = await driver.send("POST", "/api/v1/licenses", "bob", json=_license(n))
            assert r.status_code == 201, r.text
            began = time.perf_counter()
            ids = await bounded(n, concurrency, lambda: _drawn(driver))
            setup = round(time.perf_counter() - began, 1)
            pids = [server.pid, stack.worker.pid, stack.api.pid]
            wait_idle(pids)
            suspend = await _take(driver, "suspend", ids, "ON_HOLD")
            wait_idle(pids)
            reinstate = await _take(driver, "reinstate", ids, "READY_TO_SHIP")
            return {
                "database": db,
                "orders": n,
                "setup_s": setup,
                "suspend": suspend,
                "reinstate": reinstate,
            }


def main() -> None:
    """Run the benchmark and write bench/out/license-suspend-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    _db.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        load_before = loadavg()
        report = asyncio.run(run(Path(tmp), args.database, args.orders, args.concurrency))
    report["loadavg_before_after"] = [load_before, loadavg()]
    report["command"] = "python -m bench.license_suspend " + " ".join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"license-suspend-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
