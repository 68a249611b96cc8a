"""Tokens expire, are listed without their secret and revoked one by one; caches follow at once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.common import Role
from services.db import auth_repo
from services.db.engine import SessionFactory, make_async_engine, make_engine, session_factory
from services.ops.auth import Authenticator, AuthError
from tests.conftest import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of the test's own, SQLite then PostgreSQL."""
    with migrated_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
async def aengine(engine: Engine) -> AsyncIterator[AsyncEngine]:
    """The same database through the asyncio driver, as the API's Authenticator reads it."""
    aengine = make_async_engine(engine.url.render_as_string(hide_password=False))
    yield aengine
    await aengine.dispose()


@pytest.fixture
def writes(engine: Engine) -> SessionFactory:
    """Write sessions on the test's database."""
    return session_factory(engine, write=True)


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def issue(
    writes: SessionFactory, role: Role = Role.VIEWER, user: str = "", lives: timedelta | None = None
) -> tuple[str, str]:
    """A new token: (user, token)."""
    user = user or f"u-{uuid.uuid4().hex[:8]}"
    expires_at = now() + lives if lives else None
    with writes() as session:
        token = auth_repo.create_token(
            session, user=user, role=role, now=now(), expires_at=expires_at
        )
        session.commit()
    return user, token


def generation(engine: Engine) -> int:
    """The database's token generation now."""
    with engine.connect() as conn:
        return auth_repo.generation(conn)


def sql(engine: Engine, statement: str, **params: object) -> None:
    """Run one statement by hand, as an operator with a SQL prompt would."""
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_new_token_expires_after_90_days_and_carries_its_id(writes: SessionFactory) -> None:
    user, token = issue(writes)
    token_id = token.split("_")[1]
    with writes() as session:
        (info,) = auth_repo.list_tokens(session, now=now(), user=user)
    assert info.id == token_id
    assert info.status == "active"
    lifetime = info.expires_at - info.created_at
    assert timedelta(days=90) - timedelta(seconds=1) < lifetime <= timedelta(days=90)
    assert token not in info.model_dump_json()
    assert token.split("_", 2)[2] not in info.model_dump_json()


def test_every_change_to_tokens_or_roles_moves_the_generation_even_by_sql(
    engine: Engine, writes: SessionFactory
) -> None:
    user, token = issue(writes)
    token_id = token.split("_")[1]
    changes = [
        ("a role added", lambda: issue(writes, Role.COMPLIANCE, user)),
        ("a role taken", lambda: _revoke_role(writes, user, Role.COMPLIANCE)),
        ("roles edited by SQL", lambda: sql(engine, "UPDATE users SET roles = 'viewer'")),
        ("revoked by SQL", lambda: sql(engine, "UPDATE api_tokens SET revoked_at = :t", t=now())),
        ("re-dated by SQL", lambda: sql(engine, "UPDATE api_tokens SET expires_at = :t", t=now())),
        ("revoked", lambda: _revoke(writes, issue(writes, user=user)[1])),
        (
            "deleted by SQL",
            lambda: sql(engine, "DELETE FROM api_tokens WHERE token_id = :i", i=token_id),
        ),
    ]
    for what, change in changes:
        before = generation(engine)
        change()
        assert generation(engine) > before, what
    before = generation(engine)
    with writes() as session:
        auth_repo.record_use(session, used={"x": now()}, every=timedelta(minutes=1))
        session.commit()
    assert generation(engine) == before, "recording use must not drop every cache"


def _revoke_role(writes: SessionFactory, user: str, role: Role) -> None:
    with writes() as session:
        auth_repo.revoke_role(session, user=user, role=role)
        session.commit()


def _revoke(writes: SessionFactory, token: str) -> None:
    with writes() as session:
        assert auth_repo.revoke_token(session, token_id=token.split("_")[1], by="t", now=now())
        session.commit()


async def test_an_expired_token_is_refused_on_its_next_use_from_the_cache(
    aengine: AsyncEngine, writes: SessionFactory
) -> None:
    clock = [datetime.now(UTC).timestamp()]
    auth = Authenticator(aengine, writes, clock=lambda: clock[0])
    user, token = issue(writes, lives=timedelta(hours=1))
    try:
        assert (await auth.authenticate(token)).user == user
        clock[0] += 3601  # no query needed: the cached answer knows when the token ends
        with pytest.raises(AuthError, match="expired at") as refused:
            await auth.authenticate(token)
        assert refused.value.status == 401
    finally:
        auth.close()


async def test_a_token_already_expired_is_refused(
    aengine: AsyncEngine, writes: SessionFactory
) -> None:
    auth = Authenticator(aengine, writes)
    _, token = issue(writes, lives=timedelta(microseconds=1))
    try:
        with pytest.raises(AuthError, match=f"token {token.split('_')[1]} expired at"):
            await auth.authenticate(token)
    finally:
        auth.close()


async def test_last_use_is_written_once_a_minute_not_per_request(
    aengine: AsyncEngine, writes: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[int] = []
    record = auth_repo.record_use

    def counted(session: object, *, used: dict[str, datetime], every: timedelta) -> None:
        written.append(len(used))
        record(session, used=used, every=every)  # type: ignore[arg-type]

    monkeypatch.setattr(auth_repo, "record_use", counted)
    auth = Authenticator(aengine, writes)
    user, token = issue(writes)
    before = now()
    for _ in range(200):
        await auth.authenticate(token)
    auth.close()  # waits for the background write
    assert sum(written) == 1
    with writes() as session:
        (info,) = auth_repo.list_tokens(session, now=now(), user=user)
    assert info.last_used_at is not None
    assert before - timedelta(seconds=1) <= info.last_used_at <= now()


async def test_a_revocation_reaches_a_cache_that_already_knew_the_token(
    aengine: AsyncEngine, writes: SessionFactory
) -> None:
    auth = Authenticator(aengine, writes, check_every=0.0)
    _, token = issue(writes)
    try:
        await auth.authenticate(token)
        _revoke(writes, token)
        with pytest.raises(AuthError, match="invalid or revoked token"):
            await auth.authenticate(token)
    finally:
        auth.close()
