"""Processes the benchmarks run: a persisted Temporal dev server, exportflow's worker and API.

Everything binds 127.0.0.1 and every process started here is stopped on the way out, also when
the benchmark fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx
import psutil

from services.dev import dev_server_command

REPO = Path(__file__).resolve().parents[1]


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # SystemExit unwinds the `with` blocks below, so a killed benchmark stops its children.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _exit_on_sigterm)
OUT = REPO / "bench" / "out"


def loadavg() -> list[float]:
    """1, 5 and 15 minute load averages: how busy the (shared) machine was."""
    return [round(x, 2) for x in os.getloadavg()]


def tool(name: str) -> str:
    """A console script beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[bench]'")
    return found


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def wait_http(url: str, timeout: float = 60) -> None:
    """Poll until `url` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready")


class Proc:
    """A child process with its output in a log file; `stop()` always leaves nothing behind."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.pid = self.popen.pid

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def wait_idle(pids: list[int], busy: float = 15.0, timeout: float = 60.0) -> float:
    """Wait until these processes use < `busy` % of a core together; seconds waited."""
    # Booking returns before the workflows have run, and a finished batch leaves Temporal
    # work behind for a few seconds: measuring the next thing then would measure that too.
    watched = [psutil.Process(pid) for pid in pids]
    began = time.perf_counter()
    for p in watched:
        p.cpu_percent(None)
    while time.perf_counter() - began < timeout:
        time.sleep(1)
        if sum(p.cpu_percent(None) for p in watched) < busy:
            break
    return round(time.perf_counter() - began, 1)


@contextlib.contextmanager
def temporal_dev(workdir: Path) -> Iterator[tuple[str, Proc]]:
    """A persisted dev server on a free port; yields (address, process)."""
    port = free_port()
    proc = Proc(
        dev_server_command(workdir / "temporal.db", port, log_level="error"),
        workdir / "temporal.log",
    )
    try:
        wait_port(port)
        yield f"127.0.0.1:{port}", proc
    finally:
        proc.stop()


def exportflow_env(**settings: str) -> dict[str, str]:
    """This environment without EXPORTFLOW_* variables, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTFLOW_")}
    env.update({f"EXPORTFLOW_{k.upper()}": v for k, v in settings.items()})
    return env


def exportflow(args: list[str], env: dict[str, str]) -> str:
    """Run an `exportflow` command to completion; its stdout."""
    done = subprocess.run(
        [tool("exportflow"), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@dataclass
class Stack:
    """A running exportflow: API base URL, tokens per user, worker and API processes."""

    base: str
    tokens: dict[str, str]
    worker: Proc
    api: Proc
    env: dict[str, str]

    def auth(self, user: str) -> dict[str, str]:
        """Headers that authenticate as `user`."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


USERS = {"alice": "sales_ops", "bob": "compliance", "vic": "viewer"}


def prepare_db(env: dict[str, str]) -> dict[str, str]:
    """Migrate, import the bundled screening list, and create one token per user."""
    exportflow(["db", "upgrade"], env)
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with resources.as_file(demo) as path:
        exportflow(["screening-list", "import", str(path)], env)
    return {
        user: exportflow(["token", "create", "--user", user, "--role", role], env).strip()
        for user, role in USERS.items()
    }


@contextlib.contextmanager
def exportflow_stack(
    workdir: Path, address: str, database_url: str, **settings: str
) -> Iterator[Stack]:
    """Worker and API (uvicorn, 1 process) as separate processes, on `database_url`."""
    env = exportflow_env(
        database_url=database_url,
        temporal_address=address,
        task_queue="bench-orders",
        worker_metrics_port="0",  # no Prometheus port: nothing scrapes it here
        **settings,
    )
    tokens = prepare_db(env)
    port = free_port()
    worker = Proc([tool("exportflow"), "worker"], workdir / "worker.log", env)
    api = Proc([tool("exportflow"), "api", "--port", str(port)], workdir / "api.log", env)
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/readyz")
        except TimeoutError:
            print(api.log.read_text()[-3000:], worker.log.read_text()[-3000:], file=sys.stderr)
            raise
        yield Stack(base=base, tokens=tokens, worker=worker, api=api, env=env)
    finally:
        api.stop()
        worker.stop()
