"""What the soak checks at the end: every order where its plan leaves it, nothing lost,
booked twice or over-drawn, the fault tests' invariants, and the audit trail's hash chains."""

from __future__ import annotations

import asyncio
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench._stack import tool
from bench.soak_drive import Job, SoakDriver
from tests.faults import invariants

# The invariants' lines that say a license line or an order holds more than it may.
OVER_DRAWN = re.compile(r"reserved of|shipped of|more shipped than reserved|drawn \+")


@dataclass
class Outcome:
    """How one soak order went: its id (and its split remainder's), or why it failed."""

    oid: str | None
    child: str | None
    error: str | None
    seconds: float


def expected_states(jobs: list[Job], outcomes: dict[int, Outcome]) -> dict[str, str]:
    """Order id -> the state its plan leaves it in, for every order that was booked."""
    expected = {}
    for job in jobs:
        done = outcomes.get(job.index)
        if done is None or done.oid is None:
            continue
        expected[done.oid] = job.plan.end
        if job.remainder:
            expected[f"{done.oid}-S1"] = job.remainder[-1][3]
    return expected


async def end_states(drivers: list[SoakDriver], expected: dict[str, str]) -> dict[str, str]:
    """Order id -> its state in the read model, as the API answers (both APIs asked)."""
    gate = asyncio.Semaphore(16)

    async def one(i: int, oid: str) -> tuple[str, str]:
        async with gate:
            r = await drivers[i % 2].http.get(
                f"/api/v1/orders/{oid}", headers=drivers[i % 2].auth("vic")
            )
            return oid, str(r.json()["state"]) if r.status_code == 200 else f"HTTP {r.status_code}"

    return dict(await asyncio.gather(*(one(i, oid) for i, oid in enumerate(expected))))


def _counts(conn: Any, sql: str) -> dict[str, int]:
    return {str(r[0]): int(r[1]) for r in conn.execute(text(sql))}


def database_facts(url: str) -> dict[str, Any]:
    """The invariants' problems, orders per Idempotency-Key and per external reference."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        problems = invariants.problems(engine)
        with engine.connect() as conn:
            per_key = _counts(
                conn,
                "SELECT idempotency_key, count(*) FROM orders "
                "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key",
            )
            # Split remainders carry the original's reference but no key of their own.
            per_ref = _counts(
                conn,
                "SELECT external_ref, count(*) FROM orders "
                "WHERE idempotency_key IS NOT NULL GROUP BY external_ref",
            )
            ids = {str(r[0]) for r in conn.execute(text("SELECT id FROM orders"))}
    finally:
        engine.dispose()
    return {"problems": problems, "per_key": per_key, "per_ref": per_ref, "ids": ids}


def audit_verify(env: dict[str, str]) -> tuple[int, str]:
    """`exportflow audit verify`: its exit code and the end of its output."""
    done = subprocess.run(
        [tool("exportflow"), "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr)[-1000:]


def verdict(
    jobs: list[Job],
    booked: dict[str, str],
    facts: dict[str, Any],
    expected: dict[str, str],
    seen: dict[str, str],
) -> dict[str, Any]:
    """The soak's figures of damage: all must be 0 (and the lists empty) for it to pass."""
    per_key, per_ref = facts["per_key"], facts["per_ref"]
    lost = sorted(
        key for key, oid in booked.items() if oid not in facts["ids"] or per_key.get(key, 0) == 0
    )
    keys = {j.key for j in jobs}
    duplicated = sum(n - 1 for k, n in per_key.items() if n > 1 and k in keys)
    duplicated += sum(n - 1 for n in per_ref.values() if n > 1)
    wrong = {oid: f"{seen.get(oid)} (expected {want})" for oid, want in expected.items()}
    wrong = {oid: w for oid, w in wrong.items() if seen.get(oid) != expected[oid]}
    return {
        "lost": len(lost),
        "lost_keys": lost[:50],
        "duplicated": duplicated,
        "over_drawn": sum(1 for p in facts["problems"] if OVER_DRAWN.search(p)),
        "not_in_expected_state": len(wrong),
        "not_in_expected_state_examples": dict(list(wrong.items())[:50]),
        "invariant_problems": len(facts["problems"]),
        "invariant_problem_examples": facts["problems"][:50],
        "idempotency_keys_acknowledged": len(booked),
        "idempotency_keys_booked_exactly_once": sum(1 for k in booked if per_key.get(k) == 1),
        "unknown_keys_in_database": sorted(set(per_key) - keys)[:50],
    }
