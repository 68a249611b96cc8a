"""The work queue: orders waiting on a role, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from schemas.common import Money, Role
from schemas.orders import OrderState
from services.api.deps import AnyRole, SessionDep
from services.db import orders_repo
from services.db.money import from_cents, utc

router = APIRouter(tags=["tasks"])


class Task(BaseModel):
    """One order waiting on a role."""

    order_id: str
    state: OrderState
    actions: list[str]
    role: Role
    waiting_since: datetime
    due_at: datetime | None
    overdue: bool
    purchaser: str
    end_user: str
    destination: str
    total_value: Money


class TaskPage(BaseModel):
    """The work queue of a role."""

    items: list[Task]
    next_cursor: str | None = None


@router.get("/tasks", response_model=TaskPage)
async def tasks(
    role: Role,
    _: AnyRole,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TaskPage:
    """Orders waiting on `role`, the longest-waiting first."""
    rows = orders_repo.tasks_for_role(session, role=role.value, limit=limit)
    now = datetime.now(UTC)
    items = []
    for row in rows:
        waiting = (row.status or {}).get("waiting_for") or {}
        items.append(
            Task(
                order_id=row.id,
                state=OrderState(row.state),
                actions=list(waiting.get("actions", [])),
                role=role,
                waiting_since=utc(row.state_entered_at),
                due_at=utc(row.due_at) if row.due_at else None,
                overdue=bool((row.status or {}).get("overdue"))
                or (row.due_at is not None and utc(row.due_at) < now),
                purchaser=row.purchaser_name,
                end_user=row.end_user_name,
                destination=row.destination,
                total_value=from_cents(row.total_value_cents),
            )
        )
    return TaskPage(items=items)
