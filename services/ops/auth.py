"""Who is calling: the one authentication of the API's routes, the status fast path and the console.

A token is looked up once and then known from a small cache, so the hot status lookup costs no
query for it. What makes the cache safe is the generation counter (`auth_repo`): every token
created or revoked and every role taken bumps it in the same transaction, and each process reads
it again at most every `CHECK_EVERY` seconds; a cached answer from an older generation is looked
up afresh. So a revocation in any process, or by the command line, is refused by every API
process from `CHECK_EVERY` (0.5 s) after its commit, whatever the load: the read that notices
it starts no later than that. Expiry needs no query: it is checked against the clock on every
use. When a token was last used is written in the background, at most once a minute per token.
Both reads go through the asyncio driver: a slow database delays the requests that need them,
never the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.common import Actor
from services.db import auth_repo
from services.db.auth_repo import TokenFacts
from services.db.engine import SessionFactory
from services.ops.cache import LruCache
from services.ops.coalesce import Coalescer

log = logging.getLogger(__name__)

CHECK_EVERY = 0.5  # seconds between reads of the generation counter, per process
# A backstop only (the generation is what invalidates): bounds how long a change made behind
# exportflow's back, by SQL on the tables, can go unnoticed.
CACHE_TTL = 10.0
TOUCH_EVERY = timedelta(minutes=1)


class AuthError(Exception):
    """A refused caller: 401 (no, unknown, revoked or expired token) or 403 (no role)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail

    @property
    def headers(self) -> dict[str, str] | None:
        """What the answer must carry (a 401 says which scheme to use)."""
        return {"WWW-Authenticate": "Bearer"} if self.status == 401 else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value; None for anything else."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


@dataclass(frozen=True)
class _Known:
    generation: int
    facts: TokenFacts | None  # None: no such token, or revoked
    expires: float  # epoch seconds


class Authenticator:
    """Tokens to callers, cached per process and dropped when tokens or roles change anywhere."""

    def __init__(
        self,
        engine: AsyncEngine,
        write_session: SessionFactory,
        *,
        check_every: float = CHECK_EVERY,
        cache_ttl: float = CACHE_TTL,
        touch_every: timedelta = TOUCH_EVERY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._clock = clock  # wall-clock seconds, for expiry
        self._check_every = check_every
        self._known: LruCache[_Known] = LruCache(max_entries=10_000, ttl=cache_ttl)
        self._generation = -1
        self._checked_at = float("-inf")
        self._generations: Coalescer[int] = Coalescer()
        self._usage = UsageRecorder(write_session, touch_every)

    async def authenticate(self, token: str | None, *, fresh: bool = False) -> Actor:
        """The caller behind `token`, with every role their user holds; `AuthError` (401)."""
        if not token:
            raise AuthError(401, "missing bearer token")
        token_hash = auth_repo.hash_token(token)
        generation = await self._current_generation()
        known = None if fresh else self._known.get(token_hash)
        if known is None or known.generation != generation:
            known = await self._look_up(token_hash, generation)
        if known.facts is None:
            raise AuthError(401, "invalid or revoked token")
        if known.expires <= self._clock():
            when = known.facts.expires_at.isoformat(timespec="seconds")
            raise AuthError(401, f"token {known.facts.token_id} expired at {when}")
        self._usage.note(token_hash)
        return known.facts.actor

    def close(self) -> None:
        """Write the last-used times still pending; call once the server has stopped."""
        self._usage.close()

    async def _look_up(self, token_hash: str, generation: int) -> _Known:
        # Tagged with the generation read before the lookup: a change committed after that
        # read moves the counter, and the next check drops this answer.
        async with self._engine.connect() as conn:  # the asyncio driver: the loop never waits
            facts = await conn.run_sync(
                lambda sync: auth_repo.token_facts(sync, token_hash=token_hash)
            )
        expires = facts.expires_at.timestamp() if facts else float("inf")
        known = _Known(generation, facts, expires)
        self._known.put(token_hash, known)
        return known

    async def _current_generation(self) -> int:
        if time.monotonic() - self._checked_at < self._check_every:
            return self._generation
        # The requests that find the counter due share one read, one that starts after each of
        # them arrived (services/ops/coalesce.py): whatever committed before them is in it.
        return await self._generations.run("generation", self._read_generation)

    async def _read_generation(self) -> int:
        # `started` is taken before the read: whatever committed earlier is in it.
        started = time.monotonic()
        async with self._engine.connect() as conn:
            generation = await conn.run_sync(auth_repo.generation)
        if started > self._checked_at:  # one read at a time; an older one never wins
            self._generation, self._checked_at = generation, started
        return self._generation


async def status_reader(auth: Authenticator, authorization: str | None) -> Actor:
    """The caller of a status lookup: any valid token whose user holds some role.

    The route's dependency and the fast path in front of FastAPI both call this, so they
    cannot disagree about who may read.
    """
    actor = await auth.authenticate(bearer_token(authorization))
    if not actor.roles:
        raise AuthError(403, f"this needs a role; {actor.user} has none")
    return actor


class UsageRecorder:
    """When tokens were last used, written by one background thread, once a minute per token."""

    def __init__(self, write_session: SessionFactory, every: timedelta) -> None:
        self._write = write_session
        self._every = every
        self._every_seconds = every.total_seconds()
        self._noted: dict[str, float] = {}  # token hash -> when queued (monotonic)
        self._pending: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._busy = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-last-used")

    def note(self, token_hash: str) -> None:
        """A use of the token; costs one dict read unless a write is due."""
        now = time.monotonic()
        last = self._noted.get(token_hash)
        if last is not None and now - last < self._every_seconds:
            return
        with self._lock:
            if len(self._noted) > 100_000:  # bounded; forgetting only means an early write
                self._noted.clear()
            self._noted[token_hash] = now
            self._pending[token_hash] = datetime.now(UTC)
            if self._busy:
                return
            self._busy = True
        try:
            self._executor.submit(self._flush)
        except RuntimeError:  # shut down: the server is stopping
            self._busy = False

    def close(self) -> None:
        """Finish the writes queued so far."""
        self._executor.shutdown(wait=True)

    def _flush(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, {}
                if not batch:
                    self._busy = False
                    return
            try:
                with self._write() as session:
                    auth_repo.record_use(session, used=batch, every=self._every)
                    session.commit()
            except Exception:  # informative only: a lost write must never fail a request
                log.warning("could not record token use", exc_info=True)
