"""What the app holds for its lifetime: engine, session factories, the Temporal client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from anyio import CapacityLimiter
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from schemas.common import Actor
from services.api.cache import LruCache
from services.api.errors import ServiceUnavailable
from services.api.watch import OrderWatcher
from services.config import Settings
from services.db.engine import SessionFactory

TOKEN_TTL_SECONDS = 5.0


@dataclass
class AppState:
    """Created in the lifespan, handed out through dependencies."""

    settings: Settings
    engine: Engine
    read_session: SessionFactory
    write_session: SessionFactory
    temporal: Client | None = None
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Who a token is, for a few seconds, for reads only: a status lookup saves a query, while
    # every change is authorised against the database as it is now.
    actors: LruCache[Actor] = field(
        default_factory=lambda: LruCache(max_entries=10_000, ttl=TOKEN_TTL_SECONDS)
    )
    # Rendered order views keyed by what makes them change (sequence number, hold, retention).
    views: LruCache[tuple[object, bytes]] = field(
        default_factory=lambda: LruCache(max_entries=20_000)
    )
    # Requests waiting for an order to change (`GET /orders/{id}/watch`), woken by one poller.
    watcher: OrderWatcher = field(init=False)
    # The rule-set routes' database work runs in threads, at most this many at once (see
    # services/policy/ops.py): a 10,000-order preview never takes the threads others share.
    policy_limiter: CapacityLimiter | None = None

    def __post_init__(self) -> None:
        self.watcher = OrderWatcher(self.engine)

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
