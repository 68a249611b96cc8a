"""The soak's processes and the faults done to them while its orders are driven.

Two APIs and two workers on one persisted Temporal dev server and one PostgreSQL database.
The chaos runs in a thread of its own, at random points of the soak's progress (the share of
orders started). While it lags behind (a restarted worker takes seconds to poll again), new
orders wait for it, so every fault falls while orders are moving; it stops when they are done.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._stack import Proc, free_port, tool, wait_http
from tests.faults.devserver import DevServer
from tests.outages import allow_pg_connections

KINDS = ("worker_kills", "temporal_restarts", "pg_outages", "api_kills")


@dataclass
class Cluster:
    """The running processes, each restartable in place (same port, same state)."""

    workdir: Path
    env: dict[str, str]
    temporal: DevServer
    api_ports: list[int]
    apis: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)

    def api(self, i: int) -> Proc:
        """Start API i on its port."""
        args = [tool("exportflow"), "api", "--port", str(self.api_ports[i])]
        return Proc(args, self.workdir / f"api{i}.log", self.env)

    def worker(self, i: int) -> Proc:
        """Start worker i."""
        return Proc([tool("exportflow"), "worker"], self.workdir / f"worker{i}.log", self.env)

    def polling(self, i: int) -> int:
        """How many times worker i has said it polls (once per start that got that far)."""
        log = self.workdir / f"worker{i}.log"
        return log.read_text(errors="replace").count("worker polling") if log.exists() else 0

    def start(self, workers: int = 2) -> None:
        """Start the APIs and workers; return once both APIs answer."""
        self.workers = [self.worker(i) for i in range(workers)]
        self.apis = [self.api(i) for i in range(len(self.api_ports))]
        for port in self.api_ports:
            wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120)

    def stop(self) -> None:
        """Stop everything; nothing is left running."""
        for proc in [*self.apis, *self.workers]:
            proc.stop(timeout=20)
        self.temporal.stop()


def start_temporal(workdir: Path) -> DevServer:
    """A persisted dev server, started; restarts keep its port and its database file."""
    server = DevServer(workdir / "temporal.db", workdir / "temporal.log")
    try:
        server.start(timeout=90)
    except BaseException:
        server.stop()
        raise
    return server


def new_cluster(workdir: Path, env: dict[str, str], temporal: DevServer) -> Cluster:
    """A cluster of two APIs on free ports (not started yet)."""
    return Cluster(workdir, env, temporal, [free_port(), free_port()])


def _kill(proc: Proc) -> None:
    proc.popen.kill()  # SIGKILL: no shutdown, as in a crash
    proc.popen.wait(timeout=30)


class Chaos:
    """Kills workers and APIs, restarts Temporal and takes PostgreSQL away, on a schedule."""

    def __init__(
        self,
        cluster: Cluster,
        database_url: str,
        counts: dict[str, int],
        outage_seconds: float,
        seed: int,
    ) -> None:
        self.cluster, self.url, self.outage_seconds = cluster, database_url, outage_seconds
        self.rng = random.Random(seed)
        kinds = [k for k in KINDS for _ in range(counts[k])]
        self.schedule = sorted((self.rng.uniform(0.02, 0.98), k) for k in kinds)
        self.next = 0  # index in the schedule of the next fault
        self.held_back_s = 0.0  # summed over the orders that waited for the faults
        self.requested = counts
        self.done: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self.unexpected: list[str] = []
        self.error: str | None = None
        self.stopping = threading.Event()
        self.began = time.monotonic()
        self.thread: threading.Thread | None = None

    def start(self, progress: Callable[[], float]) -> None:
        """Run the schedule in a thread, `progress()` (0..1) saying how far the soak is."""
        self.thread = threading.Thread(target=self._run, args=(progress,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop after the fault under way (bounded), with the database accepting connections."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=180)
        allow_pg_connections(self.url, True)

    async def keep_up(self, progress: Callable[[], float], limit: float = 120.0) -> None:
        """Hold the next order back while more than one fault is overdue (bounded)."""
        began = time.monotonic()
        deadline = began + limit
        while (
            self.thread is not None
            and self.thread.is_alive()
            and sum(1 for at, _ in self.schedule[self.next :] if at <= progress()) > 1
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.5)
        self.held_back_s += time.monotonic() - began

    def _run(self, progress: Callable[[], float]) -> None:
        try:
            for at, kind in self.schedule:
                while progress() < at and not self.stopping.wait(0.5):
                    self.keep_alive()
                if self.stopping.is_set():
                    return
                self._do(kind)
                self.next += 1
                self.stopping.wait(2.0)  # let the system take the fault in before the next
            while not self.stopping.wait(1.0):
                self.keep_alive()
        except Exception as exc:  # reported, and the soak fails; the orders go on
            self.error = f"{type(exc).__name__}: {exc}"

    def _do(self, kind: str) -> None:
        began = time.monotonic()
        detail = {
            "worker_kills": self._kill_worker,
            "temporal_restarts": self._restart_temporal,
            "pg_outages": self._pg_outage,
            "api_kills": self._kill_api,
        }[kind]()
        self.done[kind] += 1
        at = round(began - self.began, 1)
        took = round(time.monotonic() - began, 1)
        self.events.append({"at_s": at, "kind": kind, "detail": detail, "took_s": took})

    def _kill_worker(self) -> str:
        i = self.rng.randrange(len(self.cluster.workers))
        started = self.cluster.polling(i)
        _kill(self.cluster.workers[i])
        pause = self.rng.choice([0.0, 1.0])
        time.sleep(pause)
        self.cluster.workers[i] = self.cluster.worker(i)
        # The next fault waits until this worker polls again: a kill is of a working worker.
        began, deadline = time.monotonic(), time.monotonic() + 90
        while self.cluster.polling(i) <= started and time.monotonic() < deadline:
            time.sleep(0.2)
        polls = "polling" if self.cluster.polling(i) > started else "NOT polling"
        later = time.monotonic() - began
        return f"worker {i}, restarted after {pause:.0f} s, {polls} {later:.1f} s later"

    def _kill_api(self) -> str:
        i = self.rng.randrange(len(self.cluster.apis))
        _kill(self.cluster.apis[i])
        self.cluster.apis[i] = self.cluster.api(i)
        wait_http(f"http://127.0.0.1:{self.cluster.api_ports[i]}/healthz", timeout=90)
        return f"api {i} on port {self.cluster.api_ports[i]}"

    def _restart_temporal(self) -> str:
        # Alternately a crash and a clean stop; either way the same port and database file.
        how = "SIGKILL" if self.done["temporal_restarts"] % 2 == 0 else "SIGTERM"
        if how == "SIGKILL":
            self.cluster.temporal.kill()
        else:
            self.cluster.temporal.stop()
        self.cluster.temporal.start(timeout=90)
        return f"{how}, started again on {self.cluster.temporal.address}"

    def _pg_outage(self) -> str:
        allow_pg_connections(self.url, False)
        try:
            time.sleep(self.outage_seconds)
        finally:
            allow_pg_connections(self.url, True)
        return f"connections refused for {self.outage_seconds:g} s"

    def keep_alive(self) -> None:
        """Restart a process that died by itself (it should not: such a death is reported)."""
        for name, procs, start in (
            ("worker", self.cluster.workers, self.cluster.worker),
            ("api", self.cluster.apis, self.cluster.api),
        ):
            for i, proc in enumerate(procs):
                code = proc.popen.poll()
                if code is not None and not self.stopping.is_set():
                    self.unexpected.append(f"{name} {i} exited with {code} by itself")
                    procs[i] = start(i)
        server = self.cluster.temporal.proc
        if server is not None and server.poll() is not None and not self.stopping.is_set():
            self.unexpected.append(f"Temporal exited with {server.returncode} by itself")
            self.cluster.temporal.start(timeout=90)

    def report(self) -> dict[str, Any]:
        """What was done, and what went wrong on the way."""
        return {
            "requested": self.requested,
            "done": {k: self.done[k] for k in KINDS},
            "outage_seconds": self.outage_seconds,
            "orders_held_back_s": round(self.held_back_s, 1),
            "events": self.events,
            "unexpected_exits": self.unexpected,
            "error": self.error,
        }
