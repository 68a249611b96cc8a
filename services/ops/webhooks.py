"""Webhook subscriptions as operations the API and the console share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlmodel import Session

from schemas.webhooks import (
    DeliveryStatus,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookView,
)
from services.ops.errors import InvalidInput, NotFound
from services.ops.state import AppState
from services.webhooks import store
from services.webhooks.validate import problem

T = TypeVar("T")


async def in_session(state: AppState, fn: Callable[[Session], T], *, write: bool = False) -> T:
    """`fn(session)` in the app's bounded DB threads, off the event loop; commits a write."""

    def run() -> T:
        with (state.thread_write_session if write else state.thread_read_session)() as session:
            result = fn(session)
            if write:
                session.commit()
            return result

    return await state.db_threads.run(run)


async def create(state: AppState, body: WebhookCreate, *, user: str) -> WebhookCreated:
    """Subscribe a URL; the answer holds the signing secret, shown only now."""
    found = await problem(body, allow_private=state.settings.webhooks_allow_private)
    if found is not None:
        raise InvalidInput(("body", *found[0]), found[1])

    def add(session: Session) -> WebhookCreated:
        webhook_id = store.create(session, body=body, created_by=user, now=datetime.now(UTC))
        return store.created_view(session, webhook_id)

    return await in_session(state, add, write=True)


async def subscriptions(state: AppState) -> list[WebhookView]:
    """Every subscription with its health."""
    return await in_session(state, store.list_views)


async def subscription(state: AppState, webhook_id: str) -> WebhookView:
    """One subscription with its health."""
    found = await in_session(state, lambda s: store.get_view(s, webhook_id))
    if found is None:
        raise NotFound(f"no webhook {webhook_id}")
    return found


async def remove(state: AppState, webhook_id: str) -> None:
    """Unsubscribe: nothing more is sent, and the delivery log goes with it."""
    if not await in_session(state, lambda s: store.remove(s, webhook_id), write=True):
        raise NotFound(f"no webhook {webhook_id}")


async def deliveries(
    state: AppState, webhook_id: str, *, status: DeliveryStatus | None = None, limit: int = 50
) -> list[DeliveryView]:
    """Deliveries, newest change first, each with its attempts."""

    def read(session: Session) -> list[DeliveryView] | None:
        if store.get_view(session, webhook_id) is None:
            return None
        return store.deliveries(session, webhook_id=webhook_id, status=status, limit=limit)

    items = await in_session(state, read)
    if items is None:
        raise NotFound(f"no webhook {webhook_id}")
    return items


async def redeliver(state: AppState, webhook_id: str, delivery_id: str) -> DeliveryView:
    """Send a delivery again (same webhook-id); on a failing subscription, resume it."""
    now = datetime.now(UTC)
    found = await in_session(
        state,
        lambda s: store.redeliver(s, webhook_id=webhook_id, delivery_id=delivery_id, now=now),
        write=True,
    )
    if found is None:
        raise NotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
    return found
