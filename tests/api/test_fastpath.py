"""The status lookup's fast path: the route's answers, fresh after changes, and nothing else."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Send

from schemas.common import Role
from services.api.fastpath import ROUTE, StatusLookupFastPath
from services.config import Settings
from services.db import auth_repo
from services.db.engine import SessionFactory, make_engine, session_factory
from services.ops.auth import CHECK_EVERY
from tests.harness import ApiHarness

pytestmark = pytest.mark.usefixtures("screening_list")


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
            assert auth_repo.revoke_role(session, user=name, role=Role.VIEWER) == ""
            session.commit()

    def revoke(self, auth: dict[str, str]) -> None:
        """Revoke the token in this Authorization header, as `exportflow token revoke` does."""
        token_id = auth["Authorization"].split("_")[1]
        with self._sessions() as session:
            info = auth_repo.revoke_token(session, token_id=token_id, by="test", now=_now())
            assert info is not None
            session.commit()


def _now() -> datetime:
    return datetime.now(UTC)


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
    api: ApiHarness, users: Users, fast_answers: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = await _settled_order(api)
    _, auth = users.new()
    # A token never seen before is answered by the fast path at once: one authentication.
    count = len(fast_answers)
    by_fast_path = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
    assert len(fast_answers) == count + 1

    async def passed_on(*_: object) -> None:
        return None

    with monkeypatch.context() as patch:  # the same request, through FastAPI's route
        patch.setattr(StatusLookupFastPath, "_lookup", passed_on)
        by_route = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
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


@pytest.mark.parametrize("change", ["revoke the token", "take the last role"])
async def test_a_revoked_token_or_role_stops_reading_within_half_a_second(
    api: ApiHarness, users: Users, fast_answers: list[bytes], change: str
) -> None:
    oid = await _settled_order(api)
    name, auth = users.new()
    for _ in range(2):  # known to the process now, and served by the fast path
        assert (await api.http.get(f"/api/v1/orders/{oid}", headers=auth)).status_code == 200
    count = len(fast_answers)
    if change == "revoke the token":
        users.revoke(auth)
        status, detail = 401, "invalid or revoked token"
    else:
        users.take_roles(name)
        status, detail = 403, f"this needs a role; {name} has none"
    committed = asyncio.get_running_loop().time()
    # Until CHECK_EVERY has passed a lookup may still be answered; from then on, never.
    while asyncio.get_running_loop().time() - committed < CHECK_EVERY:
        await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
        await asyncio.sleep(0.02)
    served = len(fast_answers)
    for _ in range(3):
        r = await api.http.get(f"/api/v1/orders/{oid}", headers=auth)
        assert r.status_code == status
        assert r.json() == {"detail": detail}
    assert len(fast_answers) == served >= count
