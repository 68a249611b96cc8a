"""The change feed: every order event in one global order, and the cursor to follow it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.orders import OrderState


class Change(BaseModel):
    """One audit event of an order, as the change feed shows it."""

    cursor: str = Field(description="resume after this change with `after=cursor`")
    order_id: str
    seq: int = Field(description="the order's own sequence number of this change")
    action: str
    from_state: OrderState | None
    to_state: OrderState
    actor: str
    at: datetime
    reason: str | None = None


class ChangePage(BaseModel):
    """Changes after the cursor asked for, oldest first."""

    items: list[Change]
    next_cursor: str = Field(
        description="store it and pass it as `after` next time; given also when nothing is new"
    )
