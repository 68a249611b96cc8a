"""The status lookup's read: concurrent lookups share one query, rendered views are reused.

Clients poll `GET /orders/{id}` while an order moves; it is the hottest read. Every lookup
waits for a query that starts after it arrived, so it sees every write committed before it
(an action's answer, then a lookup, never goes back in time). Lookups arriving while a query
runs wait for the next one, which reads all of their orders at once: on PostgreSQL one round
trip serves dozens of requests, on SQLite one hop to the driver's thread. The rendered JSON
of an order is reused while its version (`seq`, legal hold, retention, `updated_at`) is
unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Any, Protocol, cast

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import orders_repo
from services.db.models import OrderRow

log = logging.getLogger(__name__)

_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_VERSION_COLUMNS = ("seq", "legal_hold", "retention_until", "updated_at")
_VERSIONS = select(_ORDERS.c.id, *(_ORDERS.c[name] for name in _VERSION_COLUMNS)).where(
    _ORDERS.c.id.in_(bindparam("ids", expanding=True))
)
_ROWS = select(_ORDERS).where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
MAX_BATCH = 500  # ids per query, well under any driver's parameter limit

Version = tuple[Any, ...]


class ViewCache(Protocol):
    """Where rendered views are kept between lookups."""

    def get(self, key: Hashable) -> tuple[object, bytes] | None: ...

    def put(self, key: Hashable, value: tuple[object, bytes]) -> None: ...


class ViewReader:
    """Order views as JSON bytes, read in batches on the async engine."""

    def __init__(self, engine: AsyncEngine, cache: ViewCache) -> None:
        self._engine = engine
        self._cache = cache
        self._pending: dict[str, list[asyncio.Future[tuple[int, bytes] | None]]] = {}
        self._drainer: asyncio.Task[None] | None = None

    async def view(self, order_id: str) -> bytes | None:
        """The order as the API shows it, as it is in the database now; None if unknown."""
        found = await self.current(order_id)
        return found[1] if found is not None else None

    async def current(self, order_id: str) -> tuple[int, bytes] | None:
        """The order's `seq` and view; None if unknown."""
        future: asyncio.Future[tuple[int, bytes] | None]
        future = asyncio.get_running_loop().create_future()
        self._pending.setdefault(order_id, []).append(future)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            ids = list(self._pending)[:MAX_BATCH]
            batch = {order_id: self._pending.pop(order_id) for order_id in ids}
            try:
                found = await self._read(ids)
            except Exception as exc:  # every waiter of this batch gets the failure
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for order_id, futures in batch.items():
                for future in futures:
                    if not future.done():  # its request may have gone away
                        future.set_result(found.get(order_id))

    async def _read(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        try:
            return await self._read_once(ids)
        except DBAPIError as exc:
            # A connection the server dropped (restart, failover): SQLAlchemy has replaced the
            # pool; a read is safe to run again once, on a fresh connection.
            if not exc.connection_invalidated:
                raise
            return await self._read_once(ids)

    async def _read_once(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        async with self._engine.connect() as conn:
            versions = {
                str(row[0]): tuple(row[1:]) for row in await conn.execute(_VERSIONS, {"ids": ids})
            }
            bodies: dict[str, tuple[int, bytes]] = {}
            for order_id, version in versions.items():
                hit = self._cache.get(order_id)
                if hit is not None and hit[0] == version:
                    bodies[order_id] = (int(version[0]), hit[1])
            stale = [order_id for order_id in versions if order_id not in bodies]
            rows = (await conn.execute(_ROWS, {"ids": stale})).all() if stale else []
        for row in rows:
            bodies[row.id] = self._render(row)
        return bodies

    def _render(self, row: Any) -> tuple[int, bytes]:
        # The Core row has the columns as attributes, already typed: no SQLModel validation.
        body = orders_repo.to_view(cast(OrderRow, row)).model_dump_json().encode()
        # The version from the row itself: a write between the two reads re-renders next time.
        version = tuple(getattr(row, name) for name in _VERSION_COLUMNS)
        self._cache.put(row.id, (version, body))
        return int(row.seq), body
