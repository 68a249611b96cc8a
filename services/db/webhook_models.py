"""Webhook subscriptions, their deliveries (one per matching change) and every attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


class WebhookRow(SQLModel, table=True):
    """A subscription: where to send which changes, and how its dispatcher is doing."""

    __tablename__ = "webhooks"

    id: str = Field(primary_key=True, max_length=40)
    url: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, max_length=500)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    states: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    skus: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The signing secret must be readable to sign with; it is shown once, at creation.
    secret: str = Field(max_length=100)
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts()
    status: str = Field(default="active", max_length=10, description="active or failing")
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    failing_since: datetime | None = _ts(nullable=True)
    # Feed position up to which changes have become deliveries.
    cursor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Which worker dispatches it, until when (renewed while it runs).
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts(nullable=True)
    # The latest attempt of any of its deliveries, for its health at a glance.
    last_attempt_at: datetime | None = _ts(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookDeliveryRow(SQLModel, table=True):
    """One change for one subscription; its id is the `webhook-id` of every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "position", name="uq_deliveries_webhook_position"),
        Index("ix_deliveries_due", "webhook_id", "status", "next_attempt_at"),
        Index("ix_deliveries_order", "webhook_id", "order_id", "position"),
    )

    id: str = Field(primary_key=True, max_length=40)
    # Deleting a subscription deletes its log in the same statement (and a dispatcher's
    # concurrent write either lands before it and goes too, or finds nothing to write).
    webhook_id: str = Field(foreign_key="webhooks.id", ondelete="CASCADE", max_length=40)
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    order_id: str = Field(max_length=40)
    seq: int
    event_type: str = Field(max_length=60)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=10, description="pending, delivered, failed or rejected")
    attempts: int = 0
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    # Start of the retry window (reset by a redelivery).
    first_attempt_at: datetime | None = _ts(nullable=True)
    last_attempt_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookAttemptRow(SQLModel, table=True):
    """One HTTP request of a delivery: when, the answer's status code, how long it took."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(
        index=True, foreign_key="webhook_deliveries.id", ondelete="CASCADE", max_length=40
    )
    attempt: int
    at: datetime = _ts()
    status_code: int | None = None
    latency_ms: float
    outcome: str = Field(max_length=10, description="delivered, retry, failed or rejected")
    error: str | None = Field(default=None, sa_column=Column(Text))
