"""The work queue: orders waiting on a role, oldest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from schemas.common import Role
from schemas.orders import TaskPage
from services.api.deps import AnyRole, StateDep
from services.ops import orders

router = APIRouter(tags=["tasks"])


@router.get("/tasks", response_model=TaskPage)
async def tasks(
    role: Role,
    _: AnyRole,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TaskPage:
    """Orders waiting on `role`, the longest-waiting first."""
    return await orders.tasks(state, role=role, limit=limit)
