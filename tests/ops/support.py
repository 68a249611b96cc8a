"""Running exportflow as an operator would: API and worker processes, a private Temporal server."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from tests.conftest import tool
from tests.e2e.procs import Proc, base_env
from tests.ports import free_port, listening_port

API_READY = "Uvicorn running"
WORKER_READY = "worker polling"


def ops_env(db_url: str, temporal_address: str, **settings: str) -> dict[str, str]:
    """EXPORTFLOW_* for processes on a fresh task queue, SDK metrics off unless asked for."""
    values = {
        "database_url": db_url,
        "temporal_address": temporal_address,
        "task_queue": f"ops-{uuid.uuid4().hex[:10]}",
        "outbox_interval_seconds": "0.5",
        "worker_metrics_port": "0",
    }
    return base_env(**(values | settings))


class OpsProc(Proc):
    """A process whose output can also be taken without waiting for a line."""

    def drain(self) -> list[str]:
        """Move every line written so far into `lines` (all of them, once the process exited)."""
        if self.popen.poll() is not None:
            self._pump_thread.join(timeout=10)
        while True:
            try:
                self.lines.append(self._queue.get_nowait())
            except queue.Empty:
                return self.lines


@contextmanager
def processes(*specs: tuple[list[str], dict[str, str], str]) -> Iterator[list[OpsProc]]:
    """Start all (args, env, ready-line) at once, wait until each is ready, stop all after."""
    procs: list[OpsProc] = []
    try:
        for args, env, _ in specs:
            procs.append(OpsProc(args, env))
        for proc, (_, _, ready) in zip(procs, specs, strict=True):
            proc.wait_for(ready)
        yield procs
    finally:
        # SIGTERM to all first, so they drain side by side rather than one after another.
        for proc in procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in procs:
            with suppress(AssertionError):  # cleanup must not hide the test's own failure
                proc.stop()


def api_spec(
    env: dict[str, str], port: int = 0, *extra: str
) -> tuple[list[str], dict[str, str], str]:
    """`exportflow api` on 127.0.0.1:port; port 0 (the default) lets the OS choose one that
    nothing else can take meanwhile (see `api_base`)."""
    return (["api", "--host", "127.0.0.1", "--port", str(port), *extra], env, API_READY)


def api_base(proc: Proc) -> str:
    """The base URL of a started API process, from the port its ready line names."""
    return f"http://127.0.0.1:{listening_port(proc.lines)}"


def worker_spec(env: dict[str, str], **settings: str) -> tuple[list[str], dict[str, str], str]:
    """`exportflow worker` with extra EXPORTFLOW_* settings."""
    return (
        ["worker"],
        env | {f"EXPORTFLOW_{k.upper()}": v for k, v in settings.items()},
        WORKER_READY,
    )


def json_lines(proc: OpsProc) -> list[dict[str, Any]]:
    """Every line the process wrote so far, each parsed as JSON (fails on any other line)."""
    proc.drain()
    return [json.loads(line) for line in proc.lines if line.strip()]


@dataclass
class ApiClient:
    """One API process over HTTP, with a token per user."""

    base: str
    tokens: dict[str, str]
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(
            base_url=self.base + "/api/v1",
            timeout=120,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    def auth(self, user: str) -> dict[str, str]:
        """Headers that authenticate as `user`."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def book(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        """POST /orders as alice (sales ops)."""
        headers = self.auth("alice") | ({"Idempotency-Key": key} if key else {})
        return await self.http.post("/orders", json=body, headers=headers)

    async def act(self, oid: str, action: str, user: str, body: Any = None) -> httpx.Response:
        """POST an action on an order."""
        url = f"/orders/{oid}/actions/{action}"
        return await self.http.post(url, json=body, headers=self.auth(user))

    async def order(self, oid: str) -> dict[str, Any]:
        """GET the order."""
        r = await self.http.get(f"/orders/{oid}", headers=self.auth("bob"))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_state(
        self, oid: str, state: str, timeout: float = 120, every: float = 0.2
    ) -> dict[str, Any]:
        """Poll until the order is in `state` (the system steps run after booking returns)."""
        deadline = time.monotonic() + timeout
        while True:
            order = await self.order(oid)
            if order["state"] == state:
                return order
            assert time.monotonic() < deadline, f"{oid} stuck in {order['state']}, not {state}"
            await asyncio.sleep(every)

    async def license(self, number: str) -> dict[str, Any]:
        """GET the license."""
        r = await self.http.get(f"/licenses/{number}", headers=self.auth("bob"))
        assert r.status_code == 200, r.text
        return dict(r.json())


def license_terms(number: str, quantity: int, value: str = "1000000.00") -> dict[str, Any]:
    """An approved BIS decision for `number`."""
    return {
        "decision": "approved",
        "license_number": number,
        "approved_quantity": quantity,
        "approved_value": value,
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
    }


SHIPMENT = {"carrier": "DHL", "tracking_number": "T1", "itn": "X20261128999999"}


@contextmanager
def temporal_dev_server(db_file: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private dev server persisted to `db_file`, on free ports; killed afterwards."""
    port = free_port()
    proc = start_dev_server(db_file, port)
    try:
        yield f"127.0.0.1:{port}", proc
    finally:
        kill(proc)


def start_dev_server(db_file: Path, port: int) -> subprocess.Popen[bytes]:
    """`temporal server start-dev` on 127.0.0.1:port, headless, persisted to `db_file`."""
    args = [tool("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--http-port", str(free_port()), "--metrics-port", str(free_port()), "--headless"]
    args += ["--db-filename", str(db_file), "--log-level", "error"]
    args += ["--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000"]
    with (db_file.parent / f"temporal-{port}.log").open("ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


async def wait_temporal(address: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Until the server at `address` answers a health check."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "the Temporal dev server exited; see its log"
        try:
            client = await Client.connect(address)
            if await client.service_client.check_health():
                return
        except RuntimeError:  # not listening yet
            pass
        assert time.monotonic() < deadline, "the Temporal dev server did not come up"
        await asyncio.sleep(0.2)


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
