"""A chaos soak on PostgreSQL: N orders through every path while processes die under them.

`python -m bench.soak` creates a throwaway PostgreSQL database (`bench/_db.py`), starts a
persisted Temporal dev server, two `exportflow api` and two `exportflow worker` processes, and
drives `--orders` orders (`--concurrency` at once) through the fault tests' plans, spread over
both APIs. Meanwhile it SIGKILLs a worker `--worker-kills` times (restarting it at once or a
second later), restarts Temporal `--temporal-restarts` times (same port and database file),
has PostgreSQL refuse the database's connections `--pg-outages` times for `--outage-seconds`,
and SIGKILLs an API `--api-kills` times (restarting it on its port); clients fail over to the
other API and send bookings again under the same Idempotency-Key.

At the end every order must be where its plan leaves it, the fault tests' invariants must
hold, every Idempotency-Key must have booked exactly one order and `exportflow audit verify`
must pass. Writes bench/results/soak-postgresql.json (or `--out`); exits 1 if anything was
lost, booked twice, over-drawn or otherwise wrong. Process logs stay in bench/out/soak/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import _db
from bench._stack import OUT, REPO, exportflow, exportflow_env, loadavg, prepare_db
from bench.drive import percentiles
from bench.soak_chaos import KINDS, Chaos, Cluster, new_cluster, start_temporal
from bench.soak_check import (
    Outcome,
    audit_verify,
    database_facts,
    end_states,
    expected_states,
    verdict,
)
from bench.soak_drive import Job, Seen, SoakDriver, client, path_counts, soak_jobs
from tests import pg

RESULT = REPO / "bench" / "results" / "soak-postgresql.json"
DB_POOL_SIZE = 5


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=40)
    p.add_argument("--worker-kills", type=int, default=30)
    p.add_argument("--temporal-restarts", type=int, default=3)
    p.add_argument("--pg-outages", type=int, default=3)
    p.add_argument("--outage-seconds", type=float, default=10.0)
    p.add_argument("--api-kills", type=int, default=5)
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--max-minutes", type=float, default=60.0, help="give up driving after this")
    p.add_argument("--out", type=Path, default=RESULT, help="where the JSON goes")
    return p.parse_args(argv)


class Progress:
    """How many of the soak's orders have been started."""

    def __init__(self, total: int) -> None:
        self.total, self.started = total, 0

    def share(self) -> float:
        """Started orders as a share of all of them."""
        return self.started / self.total


async def _one(driver: SoakDriver, job: Job) -> Outcome:
    began = time.perf_counter()
    seen = driver.seen
    try:
        oid, _ = await driver.run(job.plan)
        child = None
        if job.remainder:
            child = f"{oid}-S1"  # the split's remainder, waiting for a license of its own
            await driver.wait_state(child, "AWAITING_LICENSE")
            for step in job.remainder:
                await driver.act(child, step)
        return Outcome(oid, child, None, time.perf_counter() - began)
    except Exception as exc:  # an order that failed is counted and reported, not fatal
        error = f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(seen.booked.get(job.key), None, error, time.perf_counter() - began)
    finally:
        seen.action_resends += driver.retries + driver.unavailable


async def _drive(
    jobs: list[Job],
    drivers: list[SoakDriver],
    concurrency: int,
    max_seconds: float,
    chaos: Chaos,
) -> dict[int, Outcome]:
    """Every job, `concurrency` at once, alternating between the APIs; job index -> outcome."""
    gate = asyncio.Semaphore(concurrency)
    outcomes: dict[int, Outcome] = {}

    progress = Progress(len(jobs))
    chaos.start(progress.share)

    async def one(job: Job) -> None:
        async with gate:
            await chaos.keep_up(progress.share)
            progress.started += 1
            base = drivers[job.index % 2]  # a driver of its own on this API's client
            driver = SoakDriver(base.http, base.tokens, base.seen)
            outcomes[job.index] = await _one(driver, job)

    # The orders not finished by then are reported as unfinished.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(one(j) for j in jobs)), max_seconds)
    return outcomes


async def _soak(
    cluster: Cluster, chaos: Chaos, url: str, tokens: dict[str, str], a: Any
) -> dict[str, Any]:
    jobs = soak_jobs(a.orders, a.seed)
    seen = Seen()
    https = [client(cluster.api_ports, port, seen) for port in cluster.api_ports]
    drivers = [SoakDriver(http, tokens, seen) for http in https]
    began = time.perf_counter()
    try:
        outcomes = await _drive(jobs, drivers, a.concurrency, a.max_minutes * 60, chaos)
    finally:
        await asyncio.to_thread(chaos.stop)
    minutes = (time.perf_counter() - began) / 60
    expected = expected_states(jobs, outcomes)
    states = await end_states(drivers, expected)
    for http in https:
        await http.aclose()
    facts = await asyncio.to_thread(database_facts, url)
    audit = await asyncio.to_thread(audit_verify, cluster.env)
    damage = verdict(jobs, seen.booked, facts, expected, states)
    checks = damage | {"audit_verify_exit": audit[0], "audit_verify_output": audit[1]}
    return {"minutes": round(minutes, 2), "paths": path_counts(jobs)} | _figures(
        jobs, outcomes, drivers, chaos, checks
    )


def _figures(
    jobs: list[Job],
    outcomes: dict[int, Outcome],
    drivers: list[SoakDriver],
    chaos: Chaos,
    checks: dict[str, Any],
) -> dict[str, Any]:
    errors = [f"order {i}: {o.error}" for i, o in sorted(outcomes.items()) if o.error]
    seen = drivers[0].seen
    return {
        "orders_finished": len(outcomes) - len(errors),
        "orders_failed": len(errors),
        "orders_unfinished": len(jobs) - len(outcomes),
        "order_failures": errors[:50],
        "order_ms": percentiles([o.seconds for o in outcomes.values()] or [0.0]),
        "chaos": chaos.report(),
        "http": {
            "503s": seen.unavailable,
            "resent_by_client": seen.resent + seen.action_resends,
            "failovers_to_other_api": seen.failovers,
            "broken_connections": seen.transport_errors,
            "bookings_replayed": seen.replayed_bookings,
            "refused_resends_that_had_gone_through": len(seen.late_read_model),
            "refused_resend_examples": seen.late_read_model[:20],
        },
        "checks": checks,
    }


def _passed(report: dict[str, Any]) -> bool:
    checks = report["checks"]
    once = checks["idempotency_keys_booked_exactly_once"] == checks["idempotency_keys_acknowledged"]
    damage = ("lost", "duplicated", "over_drawn", "not_in_expected_state", "invariant_problems")
    return (
        all(checks[k] == 0 for k in damage)
        and checks["audit_verify_exit"] == 0
        and once
        and report["orders_failed"] == report["orders_unfinished"] == 0
        and not report["chaos"]["unexpected_exits"]
        and report["chaos"]["error"] is None
    )


def _same_admin_server() -> None:
    # tests.outages takes connections away through the tests' maintenance URL; the database
    # was made through the benchmarks' one: they must name the same server.
    bench_url = os.environ.get(_db.PG_URL_ENV) or _db.DEFAULT_PG_URL
    os.environ.setdefault(pg.BASE_URL_ENV, bench_url)
    if pg.base_url() != bench_url:
        raise SystemExit(f"set {pg.BASE_URL_ENV} and {_db.PG_URL_ENV} to the same server")


def run(a: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start everything on a fresh database, soak it, stop everything; the report."""
    with _db.database("postgresql", workdir) as url:
        temporal = start_temporal(workdir)
        cluster, chaos = None, None
        try:
            env = exportflow_env(
                database_url=url,
                temporal_address=temporal.address,
                task_queue="soak-orders",
                worker_metrics_port="0",  # two workers: no Prometheus port of their own
                outbox_interval_seconds="1",
                # Four processes on a PostgreSQL that others use too: at most ~56 connections.
                db_pool_size=str(DB_POOL_SIZE),
            )
            tokens = prepare_db(env)
            carol = ["token", "create", "--user", "carol", "--role", "compliance"]
            tokens["carol"] = exportflow(carol, env).strip()
            cluster = new_cluster(workdir, env, temporal)
            cluster.start()
            counts = {k: getattr(a, k) for k in KINDS}
            chaos = Chaos(cluster, url, counts, a.outage_seconds, a.seed)
            return asyncio.run(_soak(cluster, chaos, url, tokens, a))
        finally:
            if chaos is not None:
                chaos.stop()  # first: it would restart what the cluster stops
            if cluster is not None:
                cluster.stop()
            temporal.stop()


def main(argv: list[str]) -> int:
    """Run the soak, write its JSON; 0 if nothing was lost, duplicated or wrong."""
    a = _args(argv)
    _same_admin_server()
    workdir = OUT / "soak"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started, load_before = datetime.now(UTC), loadavg()
    try:
        report = run(a, workdir)
    finally:
        for leftover in workdir.glob("temporal.db*"):
            leftover.unlink()
    report = {
        "command": " ".join(["python -m bench.soak", *argv]),
        "database": "postgresql",
        "started_at": f"{started:%Y-%m-%d %H:%M} UTC",
        "loadavg_before_after": [load_before, loadavg()],
        "orders": a.orders,
        "concurrency": a.concurrency,
        "seed": a.seed,
    } | report
    report["passed"] = _passed(report)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=1) + "\n")
    summary = {k: report[k] for k in ("minutes", "orders_finished", "orders_failed", "passed")}
    print(json.dumps(summary | {"chaos": report["chaos"]["done"], "http": report["http"]}))
    print(f"wrote {a.out}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
