"""The `exportflow` command line (typer): `exportflow --help`, and `--help` on every command."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from services import cli_compliance, cli_tokens
from services.config import get_settings
from services.logs import configure_for
from services.webhooks.cli import app as webhooks_app

log = logging.getLogger(__name__)

app = typer.Typer(
    name="exportflow",
    help="Export-licensed GPU orders: the dev stack, API, worker and administration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
lists_app = typer.Typer(help="Screening lists.", no_args_is_help=True)
orders_app = typer.Typer(help="The order book.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (cli_tokens.app, "token"),
    (lists_app, "screening-list"),
    (orders_app, "orders"),
    *cli_compliance.APPS,
    (webhooks_app, "webhooks"),
):
    app.add_typer(sub, name=name)


def done(code: int) -> None:
    """End a command with this exit code (0: success)."""
    if code:
        raise typer.Exit(code)


@app.callback()
def _logging(ctx: typer.Context) -> None:
    # JSON lines from the long-running services (for log shippers), text for people.
    configure_for(get_settings(), "json" if ctx.invoked_subcommand in ("api", "worker") else "text")


@app.command()
def dev(
    demo: Annotated[bool, typer.Option("--demo", help="also book a small demo order book")] = False,
    data_dir: Annotated[Path, typer.Option(help="where state is kept")] = Path(".exportflow"),
    api_port: int = 8000,
    temporal_port: int = 7233,
    ui_port: int = 8233,
) -> None:
    """Dev server + worker + API, state kept in ./.exportflow/."""
    from services.dev import DevOptions, run_dev

    done(run_dev(DevOptions(data_dir, api_port, temporal_port, ui_port, demo)))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="default EXPORTFLOW_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default EXPORTFLOW_API_PORT")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
) -> None:
    """Run the API against EXPORTFLOW_* settings."""
    from services.serve import run_api

    settings = get_settings()
    # --port 0 lets the OS choose a free port; the "Uvicorn running on" line names it.
    run_api(host or settings.api_host, settings.api_port if port is None else port, workers)


@app.command()
def worker() -> None:
    """Run a worker against EXPORTFLOW_* settings."""
    from services.ops.state import connect_temporal
    from services.worker import run_worker
    from services.worker_telemetry import install_worker_runtime

    settings = get_settings()
    # Before the client connects: the client and the worker then export SDK metrics on it.
    install_worker_runtime(settings)
    if settings.worker_metrics_port:
        host, port = settings.worker_metrics_host, settings.worker_metrics_port
        log.info("worker metrics at http://%s:%d/metrics", host, port)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, await connect_temporal(settings), stop)

    asyncio.run(go())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""
    from services.db.migrate import upgrade

    upgrade(get_settings().database_url)
    print("database is at the latest schema")


@orders_app.command("import")
def orders_import(
    file: Path,
    user: Annotated[str, typer.Option(help="who books them (holds sales_ops)")],
    atomic: Annotated[
        bool,
        typer.Option(
            help="book nothing when any row is bad (default); --no-atomic books the good orders"
        ),
    ] = True,
    report: Annotated[
        Path | None, typer.Option(help="also write the report to this CSV file")
    ] = None,
) -> None:
    """Book orders from a CSV file (layout: README), with a progress bar."""
    from services.orders_import.cli import run_import

    done(run_import(get_settings(), file, user, atomic, report))


@lists_app.command("import")
def screening_list_import(
    file: Path, by: Annotated[str, typer.Option(help="who imports (recorded)")] = "cli"
) -> None:
    """Import a CSL CSV or an OFAC SDN folder."""
    from services.db.engine import make_engine, session_factory
    from services.db.migrate import upgrade
    from services.screening.csl import ListFormatError
    from services.screening.store import import_list_file

    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            info = import_list_file(session, path=file, imported_by=by)
    except (ListFormatError, FileNotFoundError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    print(
        f"snapshot {info.id}: {info.row_count} entries from {info.file_name} "
        f"(sha256 {info.content_hash[:12]}…) is now active"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for a usage error)."""
    try:
        # Standalone: typer prints usage errors in words (naming the option) and exits.
        app(args=list(argv) if argv is not None else None, prog_name="exportflow")
    except SystemExit as exc:
        code = exc.code
        if isinstance(code, str):  # a refusal in words: say it, as Python itself would
            print(code, file=sys.stderr)
            return 1
        return code if isinstance(code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
