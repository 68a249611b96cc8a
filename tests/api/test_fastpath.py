"""The status lookup's fast path: the route's answers, fresh after changes, and nothing else."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Send

from schemas.common import Role
from services.api import cache
from services.api.fastpath import ROUTE, StatusLookupFastPath
from services.api.state import TOKEN_TTL_SECONDS
from services.config import Settings
from services.db import auth_repo
from services.db.engine import SessionFactory, make_engine, session_factory
from services.db.models import TokenRow, UserRow
from tests.harness import ApiHarness

pytestmark = pytest.mark.usefixtures("screening_list")


class CacheClock:
    """The clock of the app's caches, moved by the test alone."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        """What the caches read as the time."""
        return self.now


@pytest.fixture(autouse=True)
def cache_clock(monkeypatch: pytest.MonkeyPatch) -> CacheClock:
    """Cached callers stay fresh however long a busy machine takes between two requests."""
    clock = CacheClock()
    monkeypatch.setattr(cache, "time", clock)
    return clock


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies the fast path answered itself (the route's answers are not in it)."""
    served: list[bytes] = []
    answer = StatusLookupFastPath._answer

    async def spy(self: StatusLookupFastPath, send: Send, body: bytes, started: float) -> None:
        served.append(body)
        await answer(self, send, body, started)

    monkeypatch.setattr(StatusLookupFastPath, "_answer", spy)
    return served


class Users:
    """Makes users with tokens, takes their roles, revokes their tokens."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def new(self, role: Role = Role.VIEWER) -> tuple[str, dict[str, str]]:
        """A new user holding `role`: (name, Authorization header)."""
        name = f"fp-{uuid.uuid4().hex[:10]}"
        with self._sessions() as session:
            token = auth_repo.create_token(session, user=name, role=role, now=datetime.now(UTC))
            session.commit()
        return name, {"Authorization": f"Bearer {token}"}

    def take_roles(self, name: str) -> None:
        """What `exportflow role revoke` leaves when the user's last role is taken."""
        with self._sessions() as session:
            user = session.get(UserRow, name)
            assert user is not None
            user.roles = ""
            session.add(user)
            session.commit()

    def revoke(self, auth: dict[str, str]) -> None:
        """Revoke the token in this Authorization header."""
        token_hash = auth_repo.hash_token(auth["Authorization"].removeprefix("Bearer "))
        with self._sessions() as session:
            row = session.get(TokenRow, token_hash)
            assert row is not None
            row.revoked_at = datetime.now(UTC)
            session.add(row)
            session.commit()


@pytest.fixture
def users(settings: Settings) -> Iterator[Users]:
    """Fresh users and tokens of the test's own, on the test's database."""
    engine = make_engine(settings.database_url)
    yield Users(session_factory(engine, write=True))
    engine.dispose()


async def _settled_order(api: ApiHarness) -> str:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    return oid


async def test_fast_path_answers_exactly_as_the_route(
    api: ApiHarness, users: Users, fast_answers: list[bytes]
) -> None:
    oid = await _settled_order(api)
    _, auth = users.new()
    # The first lookup with a token not seen yet goes through the route, which caches the
    # caller; the second is answered by the fast path.
    count = len(fast_answers)
    by_route = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
    assert len(fast_answers) == count
    by_fast_path = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
    assert len(fast_answers) == count + 1
    assert by_route.status_code == by_fast_path.status_code == 200
    assert by_fast_path.content == by_route.content
    assert by_fast_path.headers.multi_items() == by_route.headers.multi_items()
    assert by_fast_path.headers["content-type"] == "application/json"
    assert by_fast_path.json()["id"] == oid


async def test_a_change_is_seen_by_the_next_lookup(
    api: ApiHarness, fast_answers: list[bytes]
) -> None:
    oid = await _settled_order(api)  # caller and rendered view are both cached now
    count = len(fast_answers)
    r = await api.act(oid, "approve", "bob", {"note": "end-use statement on file"})
    assert r.status_code == 200, r.text
    order = await api.get(oid)
    assert len(fast_answers) == count + 1
    assert order["state"] == "AWAITING_LICENSE"
    assert order == r.json()


async def test_missing_or_unknown_token_is_401_from_the_route(
    api: ApiHarness, fast_answers: list[bytes]
) -> None:
    oid = await _settled_order(api)
    count = len(fast_answers)
    for headers, detail in (
        ({}, "missing bearer token"),
        ({"Authorization": f"Basic {api.tokens['vic']}"}, "missing bearer token"),
        ({"Authorization": "Bearer"}, "missing bearer token"),
        ({"Authorization": "Bearer ef_not-a-token"}, "invalid or revoked token"),
    ):
        r = await api.http.get(f"/api/v1/orders/{oid}", headers=headers)
        assert r.status_code == 401, headers
        assert r.json() == {"detail": detail}
        assert r.headers["www-authenticate"] == "Bearer"
    assert len(fast_answers) == count


async def test_a_user_without_any_role_is_403(
    api: ApiHarness, users: Users, fast_answers: list[bytes]
) -> None:
    oid = await _settled_order(api)
    name, auth = users.new()
    users.take_roles(name)
    count = len(fast_answers)
    for _ in range(2):  # also once the caller is known
        r = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
        assert r.status_code == 403
        assert r.json() == {"detail": f"this needs a role; {name} has none"}
    assert len(fast_answers) == count


async def test_an_unknown_order_is_404_from_the_route(
    api: ApiHarness, fast_answers: list[bytes]
) -> None:
    await _settled_order(api)  # the viewer's token is cached
    count = len(fast_answers)
    for oid in ("ORD-0000000000ZZ", "not-an-order"):
        r = await api.http.get(f"/api/v1/orders/{oid}", headers=api.auth("vic"))
        assert r.status_code == 404
        assert r.json() == {"detail": f"no order {oid}"}
    assert len(fast_answers) == count


def _lookups_counted(text: str) -> tuple[float, float]:
    """(requests with status 200, latency observations) of the status lookup route."""
    requests = observed = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("route") != ROUTE or labels.get("method") != "GET":
                continue
            if sample.name == "exportflow_http_requests_total" and labels["status"] == "200":
                requests = sample.value
            if sample.name == "exportflow_http_request_duration_seconds_count":
                observed = sample.value
    return requests, observed


async def test_fast_path_lookups_count_in_the_metrics(
    api: ApiHarness, fast_answers: list[bytes]
) -> None:
    oid = await _settled_order(api)
    before = _lookups_counted((await api.http.get("/metrics")).text)
    assert before[0] > 0  # the route's own answers, counted by the middleware, same series
    count = len(fast_answers)
    for _ in range(3):
        await api.get(oid)
    assert len(fast_answers) == count + 3
    after = _lookups_counted((await api.http.get("/metrics")).text)
    assert after == (before[0] + 3, before[1] + 3)


async def test_a_revoked_token_stops_reading_within_the_cache_window(
    api: ApiHarness, users: Users, fast_answers: list[bytes], cache_clock: CacheClock
) -> None:
    oid = await _settled_order(api)
    _, auth = users.new()
    assert (await api.http.get(f"/api/v1/orders/{oid}", headers=auth)).status_code == 200
    users.revoke(auth)
    # Who a token is stays cached for reads for TOKEN_TTL_SECONDS (state.py), no longer.
    cache_clock.now += TOKEN_TTL_SECONDS - 0.1
    assert (await api.http.get(f"/api/v1/orders/{oid}", headers=auth)).status_code == 200
    cache_clock.now += 0.2
    r = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid or revoked token"}
