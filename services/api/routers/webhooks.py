"""Webhook subscriptions, their delivery log and redelivery (compliance or integration role)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import Session

from schemas.webhooks import (
    DeliveryPage,
    DeliveryStatus,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookView,
)
from services.api.deps import Integrator, StateDep
from services.api.errors import invalid
from services.api.state import AppState
from services.webhooks import store
from services.webhooks.validate import problem

router = APIRouter(tags=["webhooks"])
T = TypeVar("T")


async def _in_session(state: AppState, fn: Callable[[Session], T], *, write: bool = False) -> T:
    """`fn(session)` in the app's bounded DB threads, off the event loop; commits a write."""

    def run() -> T:
        with (state.write_session if write else state.read_session)() as session:
            result = fn(session)
            if write:
                session.commit()
            return result

    return await state.db_threads.run(run)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate, user: Integrator, state: StateDep, response: Response
) -> WebhookCreated:
    """Subscribe a URL to order changes; the answer holds the signing secret, shown only now."""
    found = await problem(body, allow_private=state.settings.webhooks_allow_private)
    if found is not None:
        raise invalid(("body", *found[0]), found[1])

    def create(session: Session) -> WebhookCreated:
        webhook_id = store.create(session, body=body, created_by=user.user, now=datetime.now(UTC))
        return store.created_view(session, webhook_id)

    created = await _in_session(state, create, write=True)
    response.headers["Location"] = f"/api/v1/webhooks/{created.id}"
    return created


@router.get("/webhooks", response_model=WebhookPage)
async def list_webhooks(_: Integrator, state: StateDep) -> WebhookPage:
    """Every subscription with its health (pending and failed deliveries, the last attempt)."""
    return WebhookPage(items=await _in_session(state, store.list_views))


@router.get("/webhooks/{webhook_id}", response_model=WebhookView)
async def get_webhook(webhook_id: str, _: Integrator, state: StateDep) -> WebhookView:
    """One subscription with its health."""
    found = await _in_session(state, lambda s: store.get_view(s, webhook_id))
    if found is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    return found


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: str, _: Integrator, state: StateDep) -> Response:
    """Unsubscribe: nothing more is sent, and the delivery log goes with it."""
    if not await _in_session(state, lambda s: store.remove(s, webhook_id), write=True):
        raise HTTPException(404, f"no webhook {webhook_id}")
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: str,
    _: Integrator,
    state: StateDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryPage:
    """Deliveries, newest change first, each with its attempts: status codes and latencies."""

    def read(session: Session) -> list[DeliveryView] | None:
        if store.get_view(session, webhook_id) is None:
            return None
        return store.deliveries(session, webhook_id=webhook_id, status=status, limit=limit)

    items = await _in_session(state, read)
    if items is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    return DeliveryPage(items=items)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryView,
)
async def redeliver(
    webhook_id: str, delivery_id: str, _: Integrator, state: StateDep
) -> DeliveryView:
    """Send a delivery again (same webhook-id); on a failing subscription, resume it."""
    now = datetime.now(UTC)
    found = await _in_session(
        state,
        lambda s: store.redeliver(s, webhook_id=webhook_id, delivery_id=delivery_id, now=now),
        write=True,
    )
    if found is None:
        raise HTTPException(404, f"no delivery {delivery_id} of webhook {webhook_id}")
    return found
