"""`exportflow dev`: Temporal dev server, worker and API in one command, state kept on disk."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from services.api.app import create_app
from services.config import Settings
from services.db.migrate import upgrade
from services.ops.state import connect_temporal
from services.serve import api_server
from services.worker import run_worker


@dataclass(frozen=True)
class DevOptions:
    """Where `exportflow dev` keeps its state and which ports it binds."""

    data_dir: Path
    api_port: int
    temporal_port: int
    ui_port: int
    demo: bool


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def dev_server_command(
    db_file: Path, port: int, *, ui_port: int | None = None, log_level: str = "warn"
) -> list[str]:
    """The persisted dev server; WAL + synchronous=OFF survive a process kill (not an OS crash).

    `ui_port=None` runs it headless (benchmarks and fault tests start it the same way).
    """
    binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    ui = ["--ui-port", str(ui_port), "--ui-disable-news-fetch"] if ui_port else ["--headless"]
    return [
        binary, "server", "start-dev",
        "--db-filename", str(db_file),
        "--ip", "127.0.0.1",
        "--port", str(port),
        *ui,
        "--log-level", log_level,
        "--sqlite-pragma", "journal_mode=WAL",
        "--sqlite-pragma", "synchronous=OFF",
        # The default poll throttle adds ~200 ms to every idle workflow step.
        "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
    ]  # fmt: skip


def temporal_command(opts: DevOptions) -> list[str]:
    """The dev server of `exportflow dev`, with its web UI."""
    return dev_server_command(
        opts.data_dir / "temporal.db", opts.temporal_port, ui_port=opts.ui_port
    )


def settings_for(opts: DevOptions) -> Settings:
    """Embedded defaults: SQLite file and dev server, both under the data directory."""
    return Settings(
        data_dir=opts.data_dir,
        database_url=f"sqlite:///{opts.data_dir / 'exportflow.db'}",
        temporal_address=f"127.0.0.1:{opts.temporal_port}",
        api_host="127.0.0.1",
        api_port=opts.api_port,
        # A receiver on this machine is what a developer tries webhooks with.
        webhooks_allow_private=True,
    )


def run_dev(opts: DevOptions) -> int:
    """Start everything; Ctrl-C stops all three cleanly."""
    for port, flag in (
        (opts.api_port, "--api-port"),
        (opts.temporal_port, "--temporal-port"),
        (opts.ui_port, "--ui-port"),
    ):
        if port_in_use(port):
            print(
                f"exportflow dev: port {port} is already in use; choose another with {flag}",
                file=sys.stderr,
            )
            return 2
    opts.data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_for(opts)
    upgrade(settings.database_url)
    from services.demo import ensure_screening_list

    ensure_screening_list(settings)
    with _temporal_server(opts) as proc:
        return asyncio.run(_serve(settings, opts, proc))


@contextlib.contextmanager
def _temporal_server(opts: DevOptions) -> Iterator[subprocess.Popen[bytes]]:
    log = (opts.data_dir / "temporal.log").open("ab")
    proc = subprocess.Popen(
        temporal_command(opts), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


async def _wait_for_temporal(settings: Settings, proc: subprocess.Popen[bytes]) -> Client:
    for _ in range(120):
        if proc.poll() is not None:
            raise SystemExit("exportflow dev: the Temporal dev server exited; see temporal.log")
        try:
            return await connect_temporal(settings)
        except Exception:  # not up yet
            await asyncio.sleep(0.5)
    raise SystemExit("exportflow dev: the Temporal dev server did not come up in 60 s")


async def _serve(settings: Settings, opts: DevOptions, proc: subprocess.Popen[bytes]) -> int:
    client = await _wait_for_temporal(settings, proc)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, client, stop))
    server = api_server(
        create_app(settings), "127.0.0.1", opts.api_port, log_level="warning", settings=settings
    )
    server.install_stop_signals(
        lambda: print("\nexportflow dev: stopping API, worker and Temporal …", flush=True)
    )
    api = asyncio.create_task(server.serve())
    while not server.started and not api.done():
        await asyncio.sleep(0.05)
    if server.started:
        await _announce(settings, opts)
    await api
    stop.set()
    await worker
    return 0


async def _announce(settings: Settings, opts: DevOptions) -> None:
    base = f"http://127.0.0.1:{opts.api_port}"
    print(f"exportflow dev is running (state in {opts.data_dir}/)")
    print(f"  console     {base}/")
    print(f"  API docs    {base}/docs")
    print(f"  Temporal UI http://127.0.0.1:{opts.ui_port}")
    print("  a token     exportflow token create --user alice --role sales_ops")
    print(
        "              (with EXPORTFLOW_DATABASE_URL="
        f"{settings.database_url} when run from another folder)"
    )
    if opts.demo:
        from services.demo import book_demo

        await book_demo(settings, base)
    print("Press Ctrl-C to stop.", flush=True)
