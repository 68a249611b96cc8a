"""Temporal goes away mid-run: actions get 503 with Retry-After, bookings are kept and started."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from services.db.migrate import upgrade
from tests.e2e.procs import wait_http
from tests.harness import booking, create_tokens
from tests.ops.support import (
    ApiClient,
    api_base,
    api_spec,
    kill,
    license_terms,
    ops_env,
    processes,
    start_dev_server,
    wait_temporal,
)
from tests.ports import free_port

pytestmark = pytest.mark.e2e


async def test_temporal_down_means_503_for_actions_and_nothing_lost(tmp_path: Path) -> None:
    temporal_port = free_port()
    address = f"127.0.0.1:{temporal_port}"
    server = start_dev_server(tmp_path / "temporal.db", temporal_port)
    try:
        await wait_temporal(address, server)
        url = f"sqlite:///{tmp_path / 'exportflow.db'}"
        upgrade(url)
        env = ops_env(url, address)
        with processes(api_spec(env), (["worker"], env, "worker polling")) as (api_proc, _):
            base = api_base(api_proc)
            wait_http(base + "/readyz")
            api = ApiClient(base, create_tokens(url))
            first = (await api.book(booking())).json()["id"]
            await api.wait_state(first, "COMPLIANCE_REVIEW")
            assert (await api.act(first, "approve", "bob", {})).status_code == 200

            kill(server)
            second = await _while_down(api, first)

            server = start_dev_server(tmp_path / "temporal.db", temporal_port)
            await wait_temporal(address, server)
            # The worker's outbox sweeper starts the workflow the API could not start.
            await api.wait_state(second, "COMPLIANCE_REVIEW", timeout=120)
            # The first order's workflow survived the restart and takes the action now.
            r = await api.act(first, "record-license", "bob", license_terms("D7100001", 10))
            assert r.status_code == 200, r.text
            assert r.json()["state"] == "READY_TO_SHIP"
            await _assert_clean_trail(api, first)
    finally:
        kill(server)


async def _while_down(api: ApiClient, first: str) -> str:
    """Actions are refused with 503 + Retry-After, reads work, a booking is accepted."""
    started = time.monotonic()
    r = await api.act(first, "record-license", "bob", license_terms("D7100001", 10))
    took = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    print(f"action answered 503 after {took:.1f} s")
    async with httpx.AsyncClient() as http:
        assert (await http.get(api.base + "/readyz")).status_code == 503
    assert (await api.order(first))["state"] == "AWAITING_LICENSE"
    # Refusals that need no workflow still come from the read model.
    assert (await api.act("ORD-NOSUCHORDER", "approve", "bob", {})).status_code == 404
    started = time.monotonic()
    r = await api.book(booking(quantity=3))
    print(f"booking accepted after {time.monotonic() - started:.1f} s")
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "BOOKED"
    return str(r.json()["id"])


async def _assert_clean_trail(api: ApiClient, oid: str) -> None:
    r = await api.http.get(f"/orders/{oid}/events", headers=api.auth("bob"))
    events = r.json()["items"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # contiguous, no duplicates
    actions = [e["action"] for e in events]
    assert actions.count("approve") == 1
    assert actions.count("record-license") == 1
