"""Screening-list snapshots: which list versions exist and which one is active."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from schemas.screening import SnapshotInfo
from services.api.deps import AnyRole, SessionDep
from services.screening import store

router = APIRouter(tags=["screening"])


class SnapshotPage(BaseModel):
    """Imported list snapshots, newest first."""

    items: list[SnapshotInfo]
    next_cursor: str | None = None


@router.get("/screening-lists", response_model=SnapshotPage)
async def list_snapshots(_: AnyRole, session: SessionDep) -> SnapshotPage:
    """Every imported snapshot (source, rows, content hash, who, when) and which is active."""
    return SnapshotPage(items=store.list_snapshots(session))
