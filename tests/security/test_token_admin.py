"""Listing and revoking tokens: over the API (compliance: all; others: their own) and the CLI."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.ops.auth import CHECK_EVERY
from tests.conftest import BACKENDS, migrated_database, tool
from tests.e2e.procs import base_env, run
from tests.harness import ApiHarness


def token_id(token: str) -> str:
    """The id a token carries (ef_<id>_<secret>)."""
    return token.split("_")[1]


async def test_compliance_lists_every_token_without_a_secret(api: ApiHarness) -> None:
    r = await api.http.get("/api/v1/tokens", headers=api.auth("bob"))
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()}
    alice = listed[token_id(api.tokens["alice"])]
    assert (alice["user"], alice["role"], alice["roles"]) == ("alice", "sales_ops", ["sales_ops"])
    assert alice["status"] == "active"
    assert alice["expires_at"] > alice["created_at"]
    assert {"created_at", "last_used_at", "expires_at"} <= alice.keys()
    for token in api.tokens.values():
        assert token.split("_", 2)[2] not in r.text


async def test_anyone_else_sees_and_revokes_only_their_own(api: ApiHarness) -> None:
    mine = await api.http.get("/api/v1/tokens", headers=api.auth("vic"))
    assert mine.status_code == 200
    assert {t["user"] for t in mine.json()} == {"vic"}
    alice_id = token_id(api.tokens["alice"])
    r = await api.http.delete(f"/api/v1/tokens/{alice_id}", headers=api.auth("vic"))
    assert r.status_code == 404
    assert r.json() == {"detail": f"no token {alice_id}"}
    assert (await api.http.get("/api/v1/orders", headers=api.auth("alice"))).status_code == 200


async def test_a_token_revoked_over_the_api_is_refused_within_half_a_second(
    api: ApiHarness,
) -> None:
    assert (await api.http.get("/api/v1/orders", headers=api.auth("alice"))).status_code == 200
    alice_id = token_id(api.tokens["alice"])
    r = await api.http.delete(f"/api/v1/tokens/{alice_id}", headers=api.auth("bob"))
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["revoked_by"]) == ("revoked", "bob")
    await asyncio.sleep(CHECK_EVERY)  # the bound itself, not a wait for something to happen
    refused = await api.http.get("/api/v1/orders", headers=api.auth("alice"))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "invalid or revoked token"}
    again = await api.http.delete(f"/api/v1/tokens/{alice_id}", headers=api.auth("bob"))
    assert again.json()["revoked_at"] == r.json()["revoked_at"]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database: its URL."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def cli_env(database: str) -> dict[str, str]:
    """The environment of `exportflow` commands on the test's database, tokens living 30 days."""
    return base_env(database_url=database, token_lifetime_days="30")


def exportflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `exportflow ARGS`, whatever its exit code."""
    return subprocess.run(
        [tool("exportflow"), *args], env=env, capture_output=True, text=True, check=False
    )


def test_the_cli_creates_lists_and_revokes_tokens(cli_env: dict[str, str]) -> None:
    done = exportflow(["token", "create", "--user", "ann", "--role", "viewer"], cli_env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("ef_")
    assert done.stderr.startswith("expires ")
    create = ["token", "create", "--user", "ann", "--role", "compliance", "--expires-in", "2h"]
    short = run(create, cli_env).strip()
    listing = run(["token", "list"], cli_env)
    assert token.split("_", 2)[2] not in listing
    header, *lines = listing.splitlines()
    assert header.split() == [
        *("ID", "USER", "ROLE", "ROLES", "NOW", "CREATED", "LAST", "USED", "EXPIRES", "STATUS")
    ]
    by_id = {line.split()[0]: line.split() for line in lines}
    assert by_id[token_id(token)][1:4] == ["ann", "viewer", "compliance,viewer"]
    assert by_id[token_id(token)][-1] == "active"
    assert by_id[token_id(short)][2] == "compliance"
    out = run(["token", "revoke", token_id(token), "--by", "incident-42"], cli_env)
    assert f"token {token_id(token)} of ann revoked at" in out
    active = run(["token", "list", "--active"], cli_env)
    assert token_id(token) not in active
    assert token_id(short) in active
    unknown = exportflow(["token", "revoke", "nope"], cli_env)
    assert unknown.returncode == 2
    assert "no token nope" in unknown.stderr


def test_the_lifetime_comes_from_the_settings_or_expires_in(
    cli_env: dict[str, str], database: str
) -> None:
    run(["token", "create", "--user", "bo", "--role", "viewer"], cli_env)
    run(["token", "create", "--user", "bo", "--role", "viewer", "--expires-in", "12h"], cli_env)
    engine = make_engine(database)
    with session_factory(engine)() as session:
        tokens = auth_repo.list_tokens(session, now=datetime.now(UTC), user="bo")
    engine.dispose()
    lifetimes = sorted(t.expires_at - t.created_at for t in tokens)
    assert lifetimes == [timedelta(hours=12), timedelta(days=30)]
    for bad in ("0d", "soon", "4000d"):
        refused = exportflow(
            ["token", "create", "--user", "bo", "--role", "viewer", "--expires-in", bad], cli_env
        )
        assert refused.returncode == 2
        assert "--expires-in" in refused.stderr
