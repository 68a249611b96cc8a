"""The `exportflow` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services import cli_compliance, cli_tokens
from services.config import Settings, get_settings
from services.logs import configure_for

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="exportflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="dev server + worker + API, state kept in ./.exportflow/")
    dev.add_argument("--demo", action="store_true", help="also book a small demo order book")
    dev.add_argument("--data-dir", type=Path, default=Path(".exportflow"))
    dev.add_argument("--api-port", type=int, default=8000)
    dev.add_argument("--temporal-port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)

    api = sub.add_parser("api", help="run the API against EXPORTFLOW_* settings")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--workers", type=int, default=1, help="API processes")

    sub.add_parser("worker", help="run a worker against EXPORTFLOW_* settings")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")

    cli_tokens.add_parsers(sub)

    sl = sub.add_parser("screening-list", help="screening lists")
    sl_sub = sl.add_subparsers(dest="sl_command", required=True)
    imp = sl_sub.add_parser("import", help="import a CSL CSV or an OFAC SDN folder")
    imp.add_argument("file", type=Path)
    imp.add_argument("--by", default="cli", help="who imports (recorded)")

    orders = sub.add_parser("orders", help="the order book")
    orders_sub = orders.add_subparsers(dest="orders_command", required=True)
    oimp = orders_sub.add_parser("import", help="book orders from a CSV file (layout: README)")
    oimp.add_argument("file", type=Path)
    oimp.add_argument("--user", required=True, help="who books them (holds sales_ops)")
    oimp.add_argument(
        "--atomic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="book nothing when any row is bad (default); --no-atomic books the good orders",
    )
    oimp.add_argument(
        "--report", type=Path, default=None, help="also write the report to this CSV file"
    )
    cli_compliance.add_parsers(sub)
    _webhook_parsers(sub)
    return p


def _webhook_parsers(sub: Any) -> None:
    wh = sub.add_parser("webhooks", help="webhook subscriptions").add_subparsers(
        dest="webhooks_command", required=True
    )
    create = wh.add_parser("create", help="subscribe a URL; prints the secret (shown only now)")
    create.add_argument("--url", required=True)
    create.add_argument("--event", action="append", default=[], help="an action; repeat")
    create.add_argument("--state", action="append", default=[], help="a state entered; repeat")
    create.add_argument("--sku", action="append", default=[], help="a SKU; repeat")
    create.add_argument("--description", default=None)
    create.add_argument("--by", default="cli", help="who subscribes (recorded)")
    wh.add_parser("list", help="subscriptions and their health")
    delete = wh.add_parser("delete", help="unsubscribe (the delivery log goes too)")
    delete.add_argument("webhook_id")
    dl = wh.add_parser("deliveries", help="a subscription's deliveries and their attempts")
    dl.add_argument("webhook_id")
    dl.add_argument("--status", choices=["pending", "delivered", "failed", "rejected"])
    dl.add_argument("--limit", type=int, default=50)
    again = wh.add_parser("redeliver", help="send a delivery again, under its webhook-id")
    again.add_argument("webhook_id")
    again.add_argument("delivery_id")
    check = wh.add_parser("verify", help="check a received delivery's signature (exit 1: bad)")
    check.add_argument("body", type=Path, help="the raw request body (a file, or - for stdin)")
    check.add_argument("--secret", required=True, help="the subscription's whsec_ secret")
    check.add_argument("--id", required=True, dest="msg_id", help="the webhook-id header")
    check.add_argument("--timestamp", required=True, help="the webhook-timestamp header")
    check.add_argument("--signature", required=True, help="the webhook-signature header")
    check.add_argument("--tolerance", type=float, default=300, help="seconds of clock skew")


def _webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from services.webhooks import cli as wh

    command = args.webhooks_command
    if command == "create":
        new = wh.NewWebhook(args.url, args.event, args.state, args.sku, args.description, args.by)
        return wh.create(settings, new)
    if command == "list":
        return wh.list_all(settings)
    if command == "delete":
        return wh.remove(settings, args.webhook_id)
    if command == "deliveries":
        return wh.deliveries(settings, args.webhook_id, args.status, args.limit)
    if command == "redeliver":
        return wh.redeliver(settings, args.webhook_id, args.delivery_id)
    signed = wh.Signed(
        args.body, args.secret, args.msg_id, args.timestamp, args.signature, args.tolerance
    )
    return wh.verify_file(signed)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    # JSON lines from the long-running services (for log shippers), text for people.
    configure_for(get_settings(), "json" if args.command in ("api", "worker") else "text")
    if args.command == "dev":
        from services.dev import DevOptions, run_dev

        opts = DevOptions(args.data_dir, args.api_port, args.temporal_port, args.ui_port, args.demo)
        return run_dev(opts)
    settings = get_settings()
    handlers = {
        "api": _api,
        "worker": _worker,
        "db": _db,
        "token": cli_tokens.run,
        "screening-list": _screening_list,
        "orders": _orders,
        "webhooks": _webhooks,
        **cli_compliance.HANDLERS,
    }
    return handlers[args.command](settings, args)


def _api(settings: Settings, args: argparse.Namespace) -> int:
    from services.serve import run_api

    # --port 0 lets the OS choose a free port; the "Uvicorn running on" line names it.
    port = settings.api_port if args.port is None else args.port
    run_api(args.host or settings.api_host, port, args.workers)
    return 0


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    from services.ops.state import connect_temporal
    from services.worker import run_worker
    from services.worker_telemetry import install_worker_runtime

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
    return 0


def _db(settings: Settings, _: argparse.Namespace) -> int:
    from services.db.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


def _orders(settings: Settings, args: argparse.Namespace) -> int:
    from services.orders_import.cli import run_import

    return run_import(settings, args.file, args.user, args.atomic, args.report)


def _screening_list(settings: Settings, args: argparse.Namespace) -> int:
    from services.db.engine import make_engine, session_factory
    from services.db.migrate import upgrade
    from services.screening.csl import ListFormatError
    from services.screening.store import import_list_file

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            info = import_list_file(session, path=args.file, imported_by=args.by)
    except (ListFormatError, FileNotFoundError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        f"snapshot {info.id}: {info.row_count} entries from {info.file_name} "
        f"(sha256 {info.content_hash[:12]}…) is now active"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
