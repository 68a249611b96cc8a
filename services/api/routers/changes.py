"""The change feed: every order event in one global order, for systems that keep a cursor."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine

from schemas.changes import ChangePage
from services.api.deps import AnyRole, StateDep
from services.db import changes_repo

router = APIRouter(tags=["changes"])

MAX_WAIT_SECONDS = 30.0


def _read(engine: Engine, after: int, limit: int) -> list[changes_repo.ChangeRow]:
    with engine.connect() as conn:
        return changes_repo.read_changes(conn, after=after, limit=limit)


@router.get("/changes", response_model=ChangePage)
async def changes(
    _: AnyRole,
    state: StateDep,
    after: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{1,18}$",
            description="a `next_cursor` (or an item's `cursor`) from an earlier answer; "
            "omitted: from the first change",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[
        float,
        Query(ge=0, le=MAX_WAIT_SECONDS, description="seconds to wait for a change, if none"),
    ] = 0,
) -> ChangePage:
    """Order events after the cursor, oldest first; `wait` long-polls for the next one.

    A consumer that stores `next_cursor` and passes it back as `after` sees every change
    exactly once, across restarts of either side: positions are handed out in commit order.
    """
    position = int(after) if after else 0
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        # Off the event loop, in the app's bounded DB threads (until the async session lands).
        rows = await state.db_threads.run(_read, state.engine, position, limit)
        remaining = deadline - asyncio.get_running_loop().time()
        if rows or remaining <= 0:
            break
        await state.feed.wait(position, remaining)
    next_cursor = str(rows[-1].position) if rows else str(position)
    return ChangePage(items=[changes_repo.to_change(r) for r in rows], next_cursor=next_cursor)
