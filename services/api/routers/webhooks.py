"""Webhook subscriptions, their delivery log and redelivery (compliance or integration role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

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
from services.ops import webhooks as ops

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate, user: Integrator, state: StateDep, response: Response
) -> WebhookCreated:
    """Subscribe a URL to order changes; the answer holds the signing secret, shown only now."""
    created = await ops.create(state, body, user=user.user)
    response.headers["Location"] = f"/api/v1/webhooks/{created.id}"
    return created


@router.get("/webhooks", response_model=WebhookPage)
async def list_webhooks(_: Integrator, state: StateDep) -> WebhookPage:
    """Every subscription with its health (pending and failed deliveries, the last attempt)."""
    return WebhookPage(items=await ops.subscriptions(state))


@router.get("/webhooks/{webhook_id}", response_model=WebhookView)
async def get_webhook(webhook_id: str, _: Integrator, state: StateDep) -> WebhookView:
    """One subscription with its health."""
    return await ops.subscription(state, webhook_id)


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: str, _: Integrator, state: StateDep) -> Response:
    """Unsubscribe: nothing more is sent, and the delivery log goes with it."""
    await ops.remove(state, webhook_id)
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
    return DeliveryPage(items=await ops.deliveries(state, webhook_id, status=status, limit=limit))


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryView,
)
async def redeliver(
    webhook_id: str, delivery_id: str, _: Integrator, state: StateDep
) -> DeliveryView:
    """Send a delivery again (same webhook-id); on a failing subscription, resume it."""
    return await ops.redeliver(state, webhook_id, delivery_id)
