"""Serving the API with uvicorn, with a shutdown that drains and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.api.app import create_app
from services.api.metrics import multiprocess_dir
from services.config import Settings, get_settings
from services.logs import configure_for


class ApiServer(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM after shutdown (exit -15); we handle signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_stop_signals(self, on_stop: object = None) -> None:
        """SIGINT/SIGTERM: stop accepting, finish in-flight requests, then return from serve()."""
        loop = asyncio.get_running_loop()

        def stop() -> None:
            if callable(on_stop):
                on_stop()
            self.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's handling of X-Forwarded-Proto and -For, from trusted proxies only.

    Behind a TLS-terminating proxy the request reaches the API as plain HTTP; the proxy says
    `X-Forwarded-Proto: https`. uvicorn believes it only from EXPORTFLOW_FORWARDED_ALLOW_IPS,
    and then the request's scheme is https, so the console's cookies are marked Secure.
    """
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def api_server(
    app: FastAPI, host: str, port: int, log_level: str = "info", settings: Settings | None = None
) -> ApiServer:
    """A server for one process; in-flight requests get 30 s on shutdown."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        log_config=None,  # keep our handlers (JSON lines), not uvicorn's own
        **proxy_options(settings or get_settings()),
    )
    return ApiServer(config)


def worker_app() -> FastAPI:
    """The app of one of several API processes; each is a fresh interpreter, so set up logs."""
    settings = get_settings()
    configure_for(settings, default_format="json")
    return create_app(settings)


def run_api(host: str, port: int, workers: int) -> None:
    """`exportflow api`: one process in-line, or uvicorn's supervisor for several."""
    if workers > 1:
        # Counters of all processes are summed through files in this directory.
        with multiprocess_dir():
            uvicorn.run(
                "services.serve:worker_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                timeout_graceful_shutdown=30,
                log_config=None,
                **proxy_options(get_settings()),
            )
        return

    async def go() -> None:
        server = api_server(create_app(), host, port)
        server.install_stop_signals()
        await server.serve()

    asyncio.run(go())
