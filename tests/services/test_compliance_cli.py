"""`exportflow records purge` and `exportflow role revoke`, run as the installed command."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

from sqlalchemy import text

from services.config import Settings
from services.db.engine import make_engine
from tests.conftest import tool
from tests.e2e.procs import base_env
from tests.harness import ApiHarness, booking


def _exportflow(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("exportflow"), *args],
        env=base_env(database_url=url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _rejected(api: ApiHarness) -> str:
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(oid, "reject", "bob", {"reason": "end use not credible"})
    assert r.status_code == 200, r.text
    return oid


def _retention(url: str, oid: str, until: date) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET retention_until = :d WHERE id = :o"),
            {"d": until.isoformat(), "o": oid},
        )
    engine.dispose()


def _remaining(url: str, oids: list[str]) -> dict[str, tuple[int, int]]:
    """Per order still there: (its events, its lines)."""
    engine = make_engine(url)
    found = {}
    with engine.connect() as conn:
        for oid in oids:
            if conn.execute(text("SELECT 1 FROM orders WHERE id = :o"), {"o": oid}).first():
                events, lines = (
                    conn.execute(
                        text(f"SELECT count(*) FROM {table} WHERE order_id = :o"), {"o": oid}
                    ).scalar_one()
                    for table in ("order_events", "order_lines")
                )
                found[oid] = (events, lines)
    engine.dispose()
    return found


async def test_purge_deletes_records_past_retention_only(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, settings = private_api
    url, today = settings.database_url, date.today()
    past, due_today, kept, held = [await _rejected(api) for _ in range(4)]
    still_open = await api.book(booking())
    await api.wait_state(still_open, "COMPLIANCE_REVIEW")
    _retention(url, past, today - timedelta(days=1))
    _retention(url, due_today, today)  # the last day of retention: deletable, as DELETE says
    _retention(url, held, today - timedelta(days=1))
    r = await api.http.post(
        f"/api/v1/orders/{held}/legal-hold",
        json={"reason": "BIS subpoena"},
        headers=api.auth("bob"),
    )
    assert r.status_code == 200, r.text
    everything = [past, due_today, kept, held, still_open]
    before = _remaining(url, everything)
    assert all(events > 0 and lines > 0 for events, lines in before.values())

    done = _exportflow(url, "records", "purge")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deleted 2 record(s) past retention"
    assert _remaining(url, everything) == {o: before[o] for o in (kept, held, still_open)}
    for oid in (past, due_today):
        r = await api.http.get(f"/api/v1/orders/{oid}/record", headers=api.auth("vic"))
        assert r.status_code == 404

    # Years later the rejected one is due too; the held one and the open one never are.
    later = (today + timedelta(days=6 * 366)).isoformat()
    done = _exportflow(url, "records", "purge", "--today", later)
    assert done.stdout.strip() == "deleted 1 record(s) past retention", done.stderr
    assert set(_remaining(url, everything)) == {held, still_open}


async def test_role_revoke_takes_one_role_and_the_api_refuses_at_once(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, settings = private_api
    url = settings.database_url
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")

    done = _exportflow(url, "role", "revoke", "--user", "dave", "--role", "compliance")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "dave now holds: sales_ops"
    r = await api.act(oid, "approve", "dave", {"note": "after revocation"})
    assert r.status_code == 403, r.text
    assert await api.book(booking(), user="dave")  # the role dave still holds still works

    done = _exportflow(url, "role", "revoke", "--user", "carol", "--role", "compliance")
    assert done.stdout.strip() == "carol now holds: no role"
    assert (await api.act(oid, "approve", "carol", {})).status_code == 403
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200

    done = _exportflow(url, "role", "revoke", "--user", "nobody", "--role", "viewer")
    assert (done.returncode, done.stderr.strip()) == (2, "no user nobody")
    done = _exportflow(url, "role", "revoke", "--user", "bob", "--role", "auditor")
    assert done.returncode == 2
    assert "--role" in done.stderr
