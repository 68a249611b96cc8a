"""What the app holds for its lifetime: engines, session factories, the Temporal client.

It belongs to neither the API nor the console: both are handed it and call the operations in
`services.ops` with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from services.config import Settings
from services.db.engine import (
    AsyncSessionFactory,
    SessionFactory,
    async_session_factory,
    make_async_engine,
    make_engine,
    session_factory,
)
from services.ops.auth import Authenticator
from services.ops.cache import LruCache
from services.ops.coalesce import Coalescer
from services.ops.errors import ServiceUnavailable
from services.ops.feed import FeedWatcher
from services.ops.offload import DbThreads
from services.ops.views import ViewReader
from services.ops.watch import OrderWatcher

T = TypeVar("T")


@dataclass
class AppState:
    """Created in the lifespan, handed out through dependencies."""

    settings: Settings
    # Everything on the event loop goes through `db` (writes) and `reads` (asyncio drivers;
    # autocommit on PostgreSQL). `engine` is for work explicitly handed to threads: the bulk
    # import and the metrics scrape.
    db: AsyncEngine
    reads: AsyncEngine
    engine: Engine
    temporal: Client | None = None
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Who a token is: cached, and dropped within 0.5 s of any change to tokens or roles.
    auth: Authenticator = field(init=False)
    # Rendered order views keyed by what makes them change (sequence number, hold, retention).
    views: LruCache[tuple[object, bytes]] = field(
        default_factory=lambda: LruCache(max_entries=20_000)
    )
    # Requests waiting for an order to change (`GET /orders/{id}/watch`), woken by one poller.
    watcher: OrderWatcher = field(init=False)
    # Status lookups: concurrent ones share one query (services/ops/views.py).
    lookups: ViewReader = field(init=False)
    # Order-list pages: identical requests in flight together share one query.
    pages: Coalescer[bytes] = field(default_factory=Coalescer)
    read_session: AsyncSessionFactory = field(init=False)
    write_session: AsyncSessionFactory = field(init=False)
    thread_write_session: SessionFactory = field(init=False)
    thread_read_session: SessionFactory = field(init=False)
    # Database work handed to threads by the routes written for it (change feed, webhooks).
    db_threads: DbThreads = field(init=False)
    # Requests long-polling the change feed, woken by one poller.
    feed: FeedWatcher = field(init=False)

    def __post_init__(self) -> None:
        self.watcher = OrderWatcher(self.reads)
        self.lookups = ViewReader(self.reads, self.views)
        self.read_session = async_session_factory(self.reads)
        self.write_session = async_session_factory(self.db, write=True)
        self.thread_write_session = session_factory(self.engine, write=True)
        self.thread_read_session = session_factory(self.engine)
        self.auth = Authenticator(self.reads, self.thread_write_session)
        self.db_threads = DbThreads(self.settings.db_pool_size)
        self.feed = FeedWatcher(self.engine, self.db_threads)

    @classmethod
    def open(cls, settings: Settings) -> AppState:
        """Engines for these settings; `close()` when done."""
        url, size = settings.database_url, settings.db_pool_size
        return cls(
            settings=settings,
            db=make_async_engine(url, pool_size=max(1, size // 2)),
            reads=make_async_engine(url, pool_size=size, reads=True),
            # Threads only (import batches, metrics): a small pool.
            engine=make_engine(settings.database_url, pool_size=2),
        )

    async def close(self) -> None:
        """Write what is pending (tokens' last use), then return every pooled connection."""
        self.auth.close()
        await self.db.dispose()
        await self.reads.dispose()
        self.engine.dispose()

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run repository code (written for a Session) with its IO on the asyncio driver."""
        # run_sync: the repositories stay one synchronous code base, shared with the worker;
        # here every query they issue awaits the async driver, so the loop never blocks.
        try:
            return await self._read_once(work)
        except DBAPIError as exc:
            # A connection the server dropped: the pool was replaced; a read may run again.
            if not exc.connection_invalidated:
                raise
            return await self._read_once(work)

    async def _read_once(self, work: Callable[[Session], T]) -> T:
        async with self.read_session() as session:
            # SQLModel's AsyncSession hands `work` its own Session subclass; typed as SQLAlchemy's.
            return await session.run_sync(work)  # type: ignore[arg-type]

    async def write(self, work: Callable[[Session], T]) -> T:
        """As `read`, in a write transaction committed when `work` returns."""
        async with self.write_session() as session:
            result = await session.run_sync(work)  # type: ignore[arg-type]
            await session.commit()
            return result

    async def temporal_client(self) -> Client:
        """The Temporal client, connecting on first need so the API starts without it."""
        if self.temporal is not None:
            return self.temporal
        async with self._connecting:
            if self.temporal is None:
                try:
                    self.temporal = await connect_temporal(self.settings, for_api=True)
                except Exception as exc:  # any failure to connect means "try later"
                    raise ServiceUnavailable(
                        f"Temporal at {self.settings.temporal_address} is unreachable"
                    ) from exc
        return self.temporal


# A person waits on the API: when Temporal is down, answer 503 within ~2 s rather than
# retrying for the SDK's default ~10 s. Workers keep the default patient retries.
API_RETRY = RetryConfig(
    initial_interval_millis=100, max_interval_millis=500, max_elapsed_time_millis=2000
)


async def connect_temporal(settings: Settings, *, for_api: bool = False) -> Client:
    """A client that speaks pydantic models, as workers and API must agree."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        retry_config=API_RETRY if for_api else None,
    )
