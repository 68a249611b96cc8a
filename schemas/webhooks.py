"""Webhook subscriptions, deliveries and the payload they carry (Standard Webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.actions import Action
from schemas.changes import Change
from schemas.common import Strict
from schemas.orders import OrderState, OrderView

# The actions an order's audit trail records: the manual steps and the system's own.
SYSTEM_ACTIONS = (
    "book",
    "screen",
    "screened",
    "rescreen",
    "rescreen-before-ship",
    "redetermine",
    "escalate",
    "license-expired",
)
EVENT_ACTIONS = frozenset(SYSTEM_ACTIONS) | frozenset(a.value for a in Action)


def event_type(action: str) -> str:
    """The Standard Webhooks `type` of a change: `order.` and the action, `-` as `_`."""
    return "order." + action.replace("-", "_")


class WebhookCreate(Strict):
    """Body of `POST /webhooks`; an empty filter means every value."""

    url: str = Field(min_length=1, max_length=2000, examples=["https://erp.example.com/hooks"])
    events: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="audit actions to send (e.g. `approve`, `ship`, `screened`); empty: all",
    )
    states: list[OrderState] = Field(
        default_factory=list, max_length=20, description="states entered; empty: all"
    )
    skus: list[str] = Field(
        default_factory=list, max_length=50, description="orders with a line of these; empty: all"
    )
    description: str | None = Field(default=None, max_length=500)


DeliveryStatus = Literal["pending", "delivered", "failed", "rejected"]


class WebhookHealth(BaseModel):
    """How a subscription's deliveries are going."""

    status: Literal["active", "failing"]
    reason: str | None = None
    failing_since: datetime | None = None
    pending: int = Field(description="deliveries not yet acknowledged by the receiver")
    failed: int = Field(description="deliveries given up after the retry window")
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    cursor: str = Field(description="changes up to this feed cursor are queued as deliveries")


class WebhookView(BaseModel):
    """A subscription, without its secret."""

    id: str
    url: str
    events: list[str]
    states: list[OrderState]
    skus: list[str]
    description: str | None
    created_by: str
    created_at: datetime
    health: WebhookHealth


class WebhookCreated(WebhookView):
    """The answer to `POST /webhooks`: the only time the signing secret is shown."""

    secret: str = Field(description="`whsec_` and base64 of the HMAC key; keep it")


class WebhookPage(BaseModel):
    """Every subscription."""

    items: list[WebhookView]


class AttemptView(BaseModel):
    """One HTTP request of a delivery."""

    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: float
    outcome: Literal["delivered", "retry", "failed", "rejected"]
    error: str | None


class DeliveryView(BaseModel):
    """One change sent (or to be sent) to one subscription; `id` is its `webhook-id`."""

    id: str
    webhook_id: str
    order_id: str
    seq: int
    event_type: str
    status: DeliveryStatus
    attempts: list[AttemptView]
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    """A subscription's deliveries, newest first."""

    items: list[DeliveryView]


class WebhookData(BaseModel):
    """The change and the order as it was when the delivery was prepared."""

    event: Change
    order: OrderView


class WebhookPayload(BaseModel):
    """The JSON body of a delivery (Standard Webhooks' recommended envelope)."""

    type: str = Field(examples=["order.approve"])
    timestamp: datetime = Field(description="when the change happened")
    data: WebhookData
