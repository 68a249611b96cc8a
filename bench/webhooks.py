"""Webhooks: delivery latency from an event's commit to the receiver, and what they cost.

Run from the repository root: `python -m bench.webhooks [--orders 200 --rounds 4]
[--database sqlite|postgresql]`. Writes bench/out/webhooks-DATABASE.json. One persisted dev
server, exportflow's worker and API as processes, a receiver in this process (aiohttp on
127.0.0.1, every request's signature verified), and a watcher that reads new audit events from
the database every 2 ms: the moment it first sees an event stands for the event's commit.

- latency: receiver arrival minus the watcher's first sight, per change, (a) one order at a
  time on a quiet stack and (b) under the lifecycle load of the "with" rounds;
- cost: full order lifecycles over HTTP, rounds with no subscription and rounds with one
  subscription (every change delivered), alternating (A B, B A, …) as bench.throughput does;
  the ratio is the completed-orders rate with one subscription over the rate without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench import _db
from bench._stack import OUT, exportflow, exportflow_stack, free_port, loadavg, temporal_dev
from bench.drive import Driver, booking, bounded, client_session, percentiles
from bench.throughput import CpuMeter, Side, phase, postmaster
from services.webhooks.verify import VerificationError, verify

Change = tuple[str, int]


class CommitWatcher:
    """Notes when each audit event first becomes visible in the database (a reader's view)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[Change, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start from the current end of the feed."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        # Autocommit: each poll sees what was committed since the last one.
        engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        query = text(
            "SELECT position, order_id, seq FROM order_events WHERE position > :after ORDER BY 1"
        )
        with engine.connect() as conn:
            start = text("SELECT COALESCE(MAX(position), 0) FROM order_events")
            after = conn.execute(start).scalar_one()
            while not self._stop.is_set():
                rows = conn.execute(query, {"after": after}).all()
                now = time.monotonic()
                for position, order_id, seq in rows:
                    self.seen.setdefault((order_id, seq), now)
                    after = position
                time.sleep(0.002)
        engine.dispose()


class Receiver:
    """An aiohttp receiver that verifies each request and notes when each change arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secret = ""
        self.arrived: dict[Change, float] = {}
        self.requests = 0
        self.invalid = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where to subscribe."""
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.monotonic()
        self.requests += 1
        try:
            verify(body, request.headers, self.secret)
        except VerificationError:
            self.invalid += 1
        event = json.loads(body)["data"]["event"]
        self.arrived.setdefault((event["order_id"], event["seq"]), now)
        return web.Response(text="ok")

    async def start(self) -> None:
        """Listen on 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/hooks", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()


async def subscribe(driver: Driver, receiver: Receiver) -> str:
    """One subscription for every change; its id."""
    r = await driver.send("POST", "/api/v1/webhooks", "erp", json={"url": receiver.url})
    r.raise_for_status()
    body = r.json()
    receiver.secret = body["secret"]
    return str(body["id"])


async def unsubscribe(driver: Driver, webhook_id: str) -> None:
    """Delete the subscription (the next round runs without one)."""
    (await driver.send("DELETE", f"/api/v1/webhooks/{webhook_id}", "erp")).raise_for_status()


def latencies(watcher: CommitWatcher, receiver: Receiver, changes: set[Change]) -> dict[str, Any]:
    """Receiver arrival minus first sight in the database, for these changes."""
    both = [c for c in changes if c in watcher.seen and c in receiver.arrived]
    seconds = [max(receiver.arrived[c] - watcher.seen[c], 0.0) for c in both]
    out: dict[str, Any] = {"n": len(seconds), "missing": len(changes) - len(both)}
    return out | (percentiles(seconds) if seconds else {})


async def wait_delivered(receiver: Receiver, changes: set[Change], timeout: float = 300) -> None:
    """Until every one of these changes arrived."""
    deadline = time.monotonic() + timeout
    while not changes <= set(receiver.arrived) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def quiet_latency(driver: Driver, watcher: CommitWatcher, receiver: Receiver, n: int) -> Any:
    """One order at a time (NLR, booked and screened): each change's commit-to-receiver time."""
    changes: set[Change] = set()
    for _ in range(n):
        oid = await driver.book(booking(sku="RTX-PRO-6000D", quantity=4))
        await driver.wait_state(oid, "READY_TO_SHIP")
        mine = {(oid, 0), (oid, 1), (oid, 2)}  # book, screen, screened
        await wait_delivered(receiver, mine)  # one order at a time: nothing else in flight
        changes |= mine
    return latencies(watcher, receiver, changes)


async def cost_rounds(
    driver: Driver, meter: CpuMeter, watcher: CommitWatcher, receiver: Receiver, args: Any
) -> dict[str, Any]:
    """Lifecycle rounds with and without one subscription, alternating."""
    sides = {"without": Side(), "with": Side()}
    loaded: set[Change] = set()
    per_round = args.orders // args.rounds
    for r in range(args.rounds):
        order = ["without", "with"] if r % 2 == 0 else ["with", "without"]
        for name in order:
            webhook_id = await subscribe(driver, receiver) if name == "with" else None
            if webhook_id:
                await asyncio.sleep(args.lease / 3 + 1)  # a worker takes the new lease
            before = set(watcher.seen)
            await phase(sides[name], per_round, args.concurrency, driver.lifecycle, meter)
            if webhook_id:
                changes = set(watcher.seen) - before
                await wait_delivered(receiver, changes)
                loaded |= changes
                await unsubscribe(driver, webhook_id)
    without = sides["without"].summary(args.concurrency)
    with_one = sides["with"].summary(args.concurrency)
    by_round = zip(with_one["per_s_by_round"], without["per_s_by_round"], strict=True)
    return {
        "without_subscription": without,
        "with_one_subscription": with_one,
        "ratio": round(with_one["per_s"] / without["per_s"], 3),
        "ratio_by_round": [round(w / o, 3) for w, o in by_round],
        "latency_under_load": latencies(watcher, receiver, loaded),
    }


async def run(workdir: Path, args: Any) -> dict[str, Any]:
    """The stack, the receiver and the watcher; quiet latency first, then the rounds."""
    receiver = Receiver()
    await receiver.start()
    settings = {"webhooks_allow_private": "true", "webhooks_lease_seconds": str(args.lease)}
    with (
        _db.database(args.database, workdir) as database_url,
        temporal_dev(workdir) as (address, server),
        exportflow_stack(workdir, address, database_url, **settings) as stack,
    ):
        stack.tokens["erp"] = exportflow(
            ["token", "create", "--user", "erp", "--role", "integration"], stack.env
        ).strip()
        watcher = CommitWatcher(database_url)
        watcher.start()
        try:
            pids = {"temporal": server.pid, "worker": stack.worker.pid, "api": stack.api.pid}
            pg = postmaster() if args.database == "postgresql" else None
            meter = CpuMeter(pids, {"postgresql": pg} if pg is not None else None)
            async with client_session(stack.base, args.concurrency) as http:
                driver = Driver(http, stack.tokens)
                await bounded(10, 10, driver.lifecycle)  # warm-up
                webhook_id = await subscribe(driver, receiver)
                await asyncio.sleep(args.lease / 3 + 1)
                quiet = await quiet_latency(driver, watcher, receiver, args.quiet_orders)
                await unsubscribe(driver, webhook_id)
                cost = await cost_rounds(driver, meter, watcher, receiver, args)
        finally:
            watcher.stop()
            await receiver.stop()
    signed = {"requests": receiver.requests, "invalid_signatures": receiver.invalid}
    return {"database": args.database, "latency_quiet": quiet, **cost, "receiver": signed}


def main() -> None:
    """Run the benchmark and write bench/out/webhooks-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200, help="lifecycles per side")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per side")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quiet-orders", type=int, default=30)
    parser.add_argument("--lease", type=float, default=6.0, help="webhook lease seconds")
    _db.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportflow-bench-") as tmp:
        load_before = loadavg()
        report = asyncio.run(run(Path(tmp), args))
    report["loadavg_before_after"] = [load_before, loadavg()]
    report["command"] = "python -m bench.webhooks " + " ".join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"webhooks-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
