"""Screening-list snapshots: which list versions exist and which one is active."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from schemas.screening import SnapshotInfo
from services.api.deps import AnyRole, StateDep
from services.screening import store

router = APIRouter(tags=["screening"])


class SnapshotPage(BaseModel):
    """Imported list snapshots, newest first."""

    items: list[SnapshotInfo]
    next_cursor: str | None = None


@router.get("/screening-lists", response_model=SnapshotPage)
async def list_snapshots(_: AnyRole, state: StateDep) -> SnapshotPage:
    """Every imported snapshot (source, rows, content hash, who, when) and which is active."""
    return SnapshotPage(items=await state.read(store.list_snapshots))
