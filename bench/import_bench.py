"""Bulk import of a 10,000-line order book against a running stack, through the API and the CLI.

    python -m bench.import_bench [--lines 10000] [--lines-per-order 2]

Starts a persisted Temporal dev server, exportflow's worker and API as processes (bench/_stack),
then: imports a generated CSV with `POST /api/v1/orders/import`, imports the same file again
(must book nothing), imports a second file with `exportflow orders import`, and waits until the
worker has screened and determined every order. While the imports run, a probe reads an order
list every 250 ms to show the API keeps answering. Results: bench/out/import-DATABASE.json
(`--database sqlite|postgresql`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench import _db
from bench._stack import OUT, Stack, exportflow_stack, temporal_dev, tool
from services.orders_import import COLUMNS

SKUS = (("H20", "12000.00"), ("RTX-PRO-6000D", "8500.00"))
DESTINATIONS = ("CN", "CN", "CN", "HK", "SG", "DE")


def order_book(tag: str, lines: int, per_order: int, seed: int = 7) -> bytes:
    """A CSV of `lines` order lines, `per_order` to an order, refs unique to `tag`."""
    rng = random.Random(seed)
    ship = (date.today() + timedelta(days=60)).isoformat()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(lines):
        n = i // per_order
        sku, price = SKUS[i % per_order % len(SKUS)]
        dest = DESTINATIONS[n % len(DESTINATIONS)]
        writer.writerow(
            [f"BENCH-{tag}-{n:06d}", f"Example Cloud Computing {n % 97} Co., Ltd.", "CN",
             "Shenzhen", f"Example Inference Services {n % 211} Ltd.", dest, "Beijing",
             "commercial AI inference", ship, sku, rng.randint(1, 64), price]
        )  # fmt: skip
    return out.getvalue().encode()


class Probe:
    """Reads the order list every 250 ms in a thread and keeps the latencies and failures."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.stack.base, timeout=30) as http:
            while not self.stop.wait(0.25):
                started = time.perf_counter()
                try:
                    r = http.get("/api/v1/orders?limit=20", headers=self.stack.auth("vic"))
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.perf_counter() - started)
                self.failures += not ok

    def summary(self) -> dict[str, Any]:
        """Count, failures, p50, p99 and max in milliseconds."""
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]

        def pick(q: float) -> float:
            return round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)

        return {"requests": len(self.latencies), "failures": self.failures,
                "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(ms[-1], 1)}  # fmt: skip


def via_api(stack: Stack, data: bytes) -> tuple[float, dict[str, Any]]:
    """POST the file to the import endpoint; seconds taken and the report's counts."""
    started = time.perf_counter()
    r = httpx.post(
        stack.base + "/api/v1/orders/import",
        files={"file": ("book.csv", data, "text/csv")},
        headers=stack.auth("alice"),
        timeout=1800,
    )
    took = time.perf_counter() - started
    if r.status_code != 200:
        raise RuntimeError(f"import answered {r.status_code}: {r.text[:500]}")
    report = r.json()
    keys = ("rows", "orders", "booked", "existing", "invalid")
    return took, {k: report[k] for k in keys}


def via_cli(stack: Stack, path: Path) -> tuple[float, str]:
    """`exportflow orders import FILE --user alice`; seconds taken and its summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        [tool("exportflow"), "orders", "import", str(path), "--user", "alice"],
        env=stack.env, capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def settle(db_url: str, timeout: float) -> tuple[float, dict[str, int]]:
    """Wait until no order is still booked or being screened; seconds waited, final states."""
    engine = create_engine(db_url)
    started = time.perf_counter()
    query = text("SELECT state, count(*) FROM orders GROUP BY state")
    try:
        while True:
            with engine.connect() as conn:
                states = {str(s): int(n) for s, n in conn.execute(query)}
            busy = states.get("BOOKED", 0) + states.get("SCREENING", 0)
            if not busy or time.perf_counter() - started > timeout:
                return time.perf_counter() - started, states
            time.sleep(2)
    finally:
        engine.dispose()


def run(db: str, lines: int, per_order: int, settle_timeout: float) -> dict[str, Any]:
    """The whole benchmark in a throw-away directory; the results as a dict."""
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        work = Path(tmp)
        with (
            _db.database(db, work) as url,
            temporal_dev(work) as (address, _),
            exportflow_stack(work, address, url) as stack,
        ):
            first, second = order_book("A", lines, per_order), order_book("B", lines, per_order)
            (work / "b.csv").write_bytes(second)
            probe = Probe(stack)
            probe.thread.start()
            try:
                api_s, api_report = via_api(stack, first)
                again_s, again_report = via_api(stack, first)
                cli_s, cli_line = via_cli(stack, work / "b.csv")
            except Exception:
                for log in (stack.api.log, stack.worker.log):
                    print(f"--- {log.name}\n{log.read_text()[-4000:]}", file=sys.stderr)
                raise
            finally:
                probe.stop.set()
                probe.thread.join()
            settle_s, states = settle(stack.env["EXPORTFLOW_DATABASE_URL"], settle_timeout)
            alive = {"api": stack.api.popen.poll() is None,
                     "worker": stack.worker.popen.poll() is None}  # fmt: skip
    return {
        "database": db, "lines": lines, "lines_per_order": per_order,
        "api_import_s": round(api_s, 1), "api_report": api_report,
        "api_reimport_s": round(again_s, 1), "api_reimport_report": again_report,
        "cli_import_s": round(cli_s, 1), "cli_summary": cli_line,
        "probe_during_imports": probe.summary(),
        "worker_settled_after_imports_s": round(settle_s, 1), "final_states": states,
        "processes_alive": alive,
    }  # fmt: skip


def main() -> None:
    """Run, print a table, write bench/out/import-DATABASE.json."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lines", type=int, default=10_000)
    p.add_argument("--lines-per-order", type=int, default=2)
    p.add_argument("--settle-timeout", type=float, default=1800)
    _db.add_argument(p)
    args = p.parse_args()
    result = run(args.database, args.lines, args.lines_per_order, args.settle_timeout)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"import-{args.database}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
