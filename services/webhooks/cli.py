"""`exportflow webhooks …`: manage subscriptions on the database, and verify a delivery."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from schemas.webhooks import DeliveryView, WebhookCreate, WebhookView
from services.config import Settings, get_settings
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade
from services.webhooks import store
from services.webhooks.validate import problem
from services.webhooks.verify import VerificationError, verify


@dataclass(frozen=True)
class NewWebhook:
    """What `webhooks create` was given."""

    url: str
    events: list[str]
    states: list[str]
    skus: list[str]
    description: str | None
    by: str


def create(settings: Settings, new: NewWebhook) -> int:
    """Subscribe a URL; prints the id and the secret (shown only now)."""
    try:
        body = WebhookCreate(
            url=new.url,
            events=new.events,
            states=new.states,  # validated into OrderState
            skus=new.skus,
            description=new.description,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"refused: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    found = asyncio.run(problem(body, allow_private=settings.webhooks_allow_private))
    if found is not None:
        print(f"refused: {'.'.join(map(str, found[0]))}: {found[1]}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            webhook_id = store.create(session, body=body, created_by=new.by, now=datetime.now(UTC))
            created = store.created_view(session, webhook_id)
            session.commit()
    finally:
        engine.dispose()
    print(f"webhook {created.id} -> {created.url}")
    print(f"secret (shown only now): {created.secret}")
    return 0


def _health(w: WebhookView) -> str:
    h = w.health
    last = (
        f"last {h.last_status_code or h.last_error or '-'}" if h.last_attempt_at else "no attempt"
    )
    return f"{h.status}, {h.pending} pending, {h.failed} failed, {last}"


def list_all(settings: Settings) -> int:
    """One line per subscription with its health."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            views = store.list_views(session)
    finally:
        engine.dispose()
    for w in views:
        print(f"{w.id}  {w.url}  ({_health(w)})")
    if not views:
        print("no webhook subscriptions")
    return 0


def remove(settings: Settings, webhook_id: str) -> int:
    """Delete a subscription and its delivery log."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            gone = store.remove(session, webhook_id)
            session.commit()
    finally:
        engine.dispose()
    if not gone:
        print(f"no webhook {webhook_id}", file=sys.stderr)
        return 2
    print(f"webhook {webhook_id} deleted")
    return 0


def _delivery_line(d: DeliveryView) -> str:
    tries = ", ".join(
        f"{a.status_code or (a.error or 'error')[:40]} in {a.latency_ms:.0f} ms" for a in d.attempts
    )
    return f"{d.id}  {d.order_id}#{d.seq}  {d.event_type}  {d.status}  [{tries}]"


def deliveries(settings: Settings, webhook_id: str, status: str | None, limit: int) -> int:
    """A subscription's deliveries, newest first, with their attempts."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            if store.get_view(session, webhook_id) is None:
                print(f"no webhook {webhook_id}", file=sys.stderr)
                return 2
            items = store.deliveries(session, webhook_id=webhook_id, status=status, limit=limit)
    finally:
        engine.dispose()
    for d in items:
        print(_delivery_line(d))
    return 0


def redeliver(settings: Settings, webhook_id: str, delivery_id: str) -> int:
    """Queue a delivery again under its webhook-id (and resume a failing subscription)."""
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            found = store.redeliver(
                session, webhook_id=webhook_id, delivery_id=delivery_id, now=datetime.now(UTC)
            )
            session.commit()
    finally:
        engine.dispose()
    if found is None:
        print(f"no delivery {delivery_id} of webhook {webhook_id}", file=sys.stderr)
        return 2
    print(f"delivery {delivery_id} queued again; the worker sends it within seconds")
    return 0


@dataclass(frozen=True)
class Signed:
    """A received delivery to check: its body and the three headers."""

    body: Path
    secret: str
    msg_id: str
    timestamp: str
    signature: str
    tolerance: float


def verify_file(signed: Signed) -> int:
    """Exit 0 when the delivery is genuine and fresh, 1 (saying why) when it is not."""
    payload = sys.stdin.buffer.read() if str(signed.body) == "-" else signed.body.read_bytes()
    headers = {
        "webhook-id": signed.msg_id,
        "webhook-timestamp": signed.timestamp,
        "webhook-signature": signed.signature,
    }
    try:
        verify(payload, headers, signed.secret, tolerance=signed.tolerance)
    except VerificationError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    print("valid")
    return 0


app = typer.Typer(help="Webhook subscriptions.", no_args_is_help=True)


class Status(StrEnum):
    """A delivery's status, for `deliveries --status`."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"


def _done(code: int) -> None:
    if code:
        raise typer.Exit(code)


@app.command("create")
def create_command(
    url: Annotated[str, typer.Option(help="the receiver, http(s)")],
    event: Annotated[list[str] | None, typer.Option(help="an action; repeat")] = None,
    state: Annotated[list[str] | None, typer.Option(help="a state entered; repeat")] = None,
    sku: Annotated[list[str] | None, typer.Option(help="a SKU; repeat")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    by: Annotated[str, typer.Option(help="who subscribes (recorded)")] = "cli",
) -> None:
    """Subscribe a URL; prints the secret (shown only now)."""
    new = NewWebhook(url, event or [], state or [], sku or [], description, by)
    _done(create(get_settings(), new))


@app.command("list")
def list_command() -> None:
    """Subscriptions and their health."""
    _done(list_all(get_settings()))


@app.command("delete")
def delete_command(webhook_id: str) -> None:
    """Unsubscribe (the delivery log goes too)."""
    _done(remove(get_settings(), webhook_id))


@app.command("deliveries")
def deliveries_command(
    webhook_id: str,
    status: Annotated[Status | None, typer.Option(help="only these")] = None,
    limit: int = 50,
) -> None:
    """A subscription's deliveries and their attempts."""
    _done(deliveries(get_settings(), webhook_id, status.value if status else None, limit))


@app.command("redeliver")
def redeliver_command(webhook_id: str, delivery_id: str) -> None:
    """Send a delivery again, under its webhook-id."""
    _done(redeliver(get_settings(), webhook_id, delivery_id))


@app.command("verify")
def verify_command(
    body: Annotated[Path, typer.Argument(help="the raw request body (a file, or - for stdin)")],
    secret: Annotated[str, typer.Option(help="the subscription's whsec_ secret")],
    msg_id: Annotated[str, typer.Option("--id", help="the webhook-id header")],
    timestamp: Annotated[str, typer.Option(help="the webhook-timestamp header")],
    signature: Annotated[str, typer.Option(help="the webhook-signature header")],
    tolerance: Annotated[float, typer.Option(help="seconds of clock skew")] = 300,
) -> None:
    """Check a received delivery's signature (exit 1: not genuine or not fresh)."""
    _done(verify_file(Signed(body, secret, msg_id, timestamp, signature, tolerance)))
