"""A revoked or expired token, or a taken role, is refused by every API process within a second.

Two `exportflow api` processes share one database (SQLite file, then PostgreSQL). Each
caller is first known to both processes (their caches hold it; the status lookup is answered
by the fast path). Then the token is revoked by the command line (a third process) or through
one of the APIs, or the user's role is taken, or the token reaches its expiry; every request
sent a second or more after that, to either process, on the fast path or a route, is refused.
Requests are only ever served later than they are sent, so the bound holds however busy the
machine is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from schemas.common import Role
from schemas.orders import BookOrderRequest
from services.db import auth_repo, orders_repo
from services.db.engine import make_engine, session_factory
from tests.conftest import BACKENDS, migrated_database
from tests.e2e.procs import free_port, run, wait_http
from tests.harness import booking
from tests.ops.support import api_spec, ops_env, processes

pytestmark = pytest.mark.e2e

BOUND = 1.0  # seconds: the promise
WATCH = 1.5  # seconds of requests after the change, so the bound is crossed with margin


@dataclass
class Stack:
    """Two API processes on one database, an order to look up, and the `exportflow` env."""

    bases: list[str]
    env: dict[str, str]
    db_url: str
    order_id: str
    http: httpx.AsyncClient

    def paths(self) -> list[str]:
        """The status lookup (fast path) and a plain route that needs a role."""
        return [f"/api/v1/orders/{self.order_id}", "/api/v1/orders?limit=1"]

    def token(self, user: str, role: Role, lives: timedelta = timedelta(days=1)) -> str:
        """A new token, made directly in the database."""
        engine = make_engine(self.db_url)
        now = datetime.now(UTC)
        with session_factory(engine, write=True)() as session:
            token = auth_repo.create_token(
                session, user=user, role=role, now=now, expires_at=now + lives
            )
            session.commit()
        engine.dispose()
        return token

    async def status(self, base: str, path: str, token: str) -> int:
        """The status of one GET."""
        r = await self.http.get(base + path, headers={"Authorization": f"Bearer {token}"})
        return r.status_code

    async def known_everywhere(self, token: str) -> None:
        """Both processes answer the token twice on both paths (so their caches hold it)."""
        for base in self.bases:
            for path in self.paths():
                for _ in range(2):
                    assert await self.status(base, path, token) == 200, (base, path)


def _insert_order(url: str) -> str:
    engine = make_engine(url)
    body = BookOrderRequest.model_validate(booking())
    with session_factory(engine, write=True)() as session:
        row = orders_repo.insert_order(
            session,
            order_id="ORD-TOKENTEST0001",
            booking=body,
            created_by="setup",
            idempotency_key=None,
            request_hash="0" * 64,
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    return row.id


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Two API processes per backend, for the module; each test has users of its own.

    No Temporal is needed: reads and token administration work without it."""
    with migrated_database(request.param, tmp_path_factory.mktemp("tokens")) as url:
        env = ops_env(url, f"127.0.0.1:{free_port()}")
        ports = [free_port(), free_port()]
        order_id = _insert_order(url)
        with processes(*(api_spec(env, port) for port in ports)):
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base in bases:
                wait_http(base + "/healthz")
            async with httpx.AsyncClient(timeout=60) as http:
                yield Stack(bases, env, url, order_id, http)


async def watch(stack: Stack, token: str, since: float, refused: int) -> list[tuple[float, int]]:
    """GET every path on every process, one after another, for WATCH seconds after `since`;
    (sent, status) of each, sent in seconds after `since`."""
    seen: list[tuple[float, int]] = []
    while (sent := time.monotonic() - since) < WATCH:
        for base in stack.bases:
            for path in stack.paths():
                seen.append((sent, await stack.status(base, path, token)))
                sent = time.monotonic() - since
        await asyncio.sleep(0.01)
    late = [(t, s) for t, s in seen if t >= BOUND]
    assert late, "no request was sent after the bound; the watch ended too early"
    assert all(s == refused for _, s in late), f"served after {BOUND} s: {late}"
    served = [t for t, s in seen if s == 200]
    print(f"last answered {max(served, default=0):.3f} s after the change; {len(seen)} requests")
    return seen


Change = Callable[[Stack, str], Awaitable[None]]


async def _revoke_by_cli(stack: Stack, token: str) -> None:
    await asyncio.to_thread(run, ["token", "revoke", token.split("_")[1]], stack.env)


async def _revoke_by_api(stack: Stack, token: str) -> None:
    admin = stack.token("officer", Role.COMPLIANCE)
    url = f"{stack.bases[0]}/api/v1/tokens/{token.split('_')[1]}"
    r = await stack.http.delete(url, headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "change", [_revoke_by_cli, _revoke_by_api], ids=["revoked-by-cli", "revoked-by-api"]
)
async def test_a_revoked_token_is_refused_by_both_processes_within_a_second(
    stack: Stack, change: Change
) -> None:
    token = stack.token(f"rita-{change.__name__}", Role.VIEWER)
    await stack.known_everywhere(token)
    await change(stack, token)
    await watch(stack, token, time.monotonic(), refused=401)


async def test_a_taken_role_stops_working_in_both_processes_within_a_second(
    stack: Stack,
) -> None:
    token = stack.token("rolf", Role.VIEWER)
    await stack.known_everywhere(token)
    await asyncio.to_thread(
        run, ["role", "revoke", "--user", "rolf", "--role", "viewer"], stack.env
    )
    await watch(stack, token, time.monotonic(), refused=403)


async def test_an_expired_token_is_refused_by_both_processes_from_its_expiry(
    stack: Stack,
) -> None:
    lives = timedelta(seconds=8)  # long enough to be answered first, even on a busy machine
    token = stack.token("eve", Role.VIEWER, lives)
    expiry = time.monotonic() + lives.total_seconds()
    await stack.known_everywhere(token)
    assert time.monotonic() < expiry, "the machine was too slow to use the token before expiry"
    while time.monotonic() < expiry - BOUND:
        await asyncio.sleep(0.1)
    # Expiry needs no notice: every use checks it, so nothing is answered from the moment
    # the token expires (BOUND seconds into the watch).
    await watch(stack, token, expiry - BOUND, refused=401)
