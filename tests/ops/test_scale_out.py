"""Two API and two worker processes on one Temporal server and one PostgreSQL database.

The processes are started once for the module. The concurrency tests race the two APIs against
each other; the last test pushes 200 orders through the full lifecycle and SIGKILLs a worker
early in the run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from temporalio.testing import WorkflowEnvironment

from services.db.migrate import upgrade
from tests import pg
from tests.e2e.procs import wait_http
from tests.harness import booking, create_tokens
from tests.ops.support import (
    SHIPMENT,
    ApiClient,
    OpsProc,
    api_base,
    api_spec,
    license_terms,
    ops_env,
    processes,
    worker_spec,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ORDERS = 200
ORDERS_PER_LICENSE = 5
UNITS = 2  # per H20 order
IN_FLIGHT = 40  # orders driven at once
POLL = 1.0  # seconds between status lookups while the system steps run


@dataclass
class Cluster:
    """The processes and an HTTP client per API."""

    apis: list[ApiClient]
    workers: list[OpsProc]
    db_url: str


@pytest.fixture(scope="module")
def cluster(temporal_env: WorkflowEnvironment) -> Iterator[Cluster]:
    """A fresh, migrated PostgreSQL database and the four processes."""
    pg.require_pg()
    url = pg.create_database()
    try:
        env = ops_env(url, temporal_env.client.service_client.config.target_host)
        upgrade(url)
        tokens = create_tokens(url)
        specs = [api_spec(env), api_spec(env), worker_spec(env), worker_spec(env)]
        with processes(*specs) as procs:
            bases = [api_base(proc) for proc in procs[:2]]
            for base in bases:
                wait_http(base + "/readyz")
            yield Cluster([ApiClient(b, tokens) for b in bases], procs[2:], url)
    finally:
        pg.drop_database(url)


async def _awaiting_license(cluster: Cluster, n: int, quantity: int) -> list[str]:
    a, b = cluster.apis
    ids = [
        (await a.book(booking(quantity=quantity, price="100.00"))).json()["id"] for _ in range(n)
    ]
    for oid in ids:
        await b.wait_state(oid, "COMPLIANCE_REVIEW")
        assert (await a.act(oid, "approve", "bob", {})).status_code == 200
    return ids


async def test_two_apis_allocating_one_license_at_once_never_over_allocate(
    cluster: Cluster,
) -> None:
    ids = await _awaiting_license(cluster, 6, quantity=10)
    terms = license_terms(f"D8{uuid.uuid4().int % 10**6:06d}", 30, "100000.00")
    results = await asyncio.gather(
        *(
            cluster.apis[i % 2].act(oid, "record-license", "carol", terms)
            for i, oid in enumerate(ids)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 200, 200, 409, 409, 409]
    lic = await cluster.apis[0].license(terms["license_number"])
    assert lic["allocated_quantity"] == 30
    assert sum(o["quantity"] for o in lic["orders"] if not o["released"]) == 30


async def test_two_officers_on_two_apis_get_one_200_and_one_409(cluster: Cluster) -> None:
    a, b = cluster.apis
    ids = [(await a.book(booking())).json()["id"] for _ in range(3)]
    for oid in ids:
        await b.wait_state(oid, "COMPLIANCE_REVIEW")
        results = await asyncio.gather(
            a.act(oid, "approve", "bob", {}), b.act(oid, "approve", "carol", {})
        )
        assert sorted(r.status_code for r in results) == [200, 409]
        events = (await a.http.get(f"/orders/{oid}/events", headers=a.auth("bob"))).json()
        assert [e["action"] for e in events["items"]].count("approve") == 1


async def test_one_idempotency_key_on_both_apis_books_one_order(cluster: Cluster) -> None:
    for _ in range(3):
        key = f"PO-{uuid.uuid4().hex[:12]}"
        body = booking(ref=key)
        results = await asyncio.gather(*(api.book(body, key=key) for api in cluster.apis * 2))
        assert [r.status_code for r in results] == [201] * 4, [r.text for r in results]
        assert len({r.json()["id"] for r in results}) == 1
        fresh = [r for r in results if r.headers.get("Idempotent-Replayed") != "true"]
        assert len(fresh) == 1
        with _connect(cluster.db_url) as connection:
            count = connection.execute(
                text("SELECT count(*) FROM orders WHERE idempotency_key = :k"), {"k": key}
            ).scalar_one()
        assert count == 1


@dataclass
class Run:
    """What the 200-order run did, for the checks afterwards."""

    ids: list[str]
    h20: set[str]
    licenses: dict[str, list[str]]
    actions: int = 0
    unavailable: int = 0  # 503 answers asked again
    done_at: list[float] = field(default_factory=list)


async def _step(
    api: ApiClient, oid: str, action: str, user: str, body: Any, to: str, run: Run
) -> None:
    """One action, as a patient client takes it: a 503 (no worker confirmed it in time, as
    while a killed worker's tasks wait for their timeout on a busy machine) is asked again
    after Retry-After, and a 409 on a retry is fine when the order already is where the
    action leads (the first attempt went through). The trail check counts each action once."""
    deadline = time.monotonic() + 240
    for attempt in itertools.count(1):
        r = await api.act(oid, action, user, body)
        if r.status_code == 200:
            assert r.json()["state"] == to
            break
        if r.status_code == 503 and time.monotonic() < deadline:
            run.unavailable += 1
            await asyncio.sleep(min(int(r.headers["Retry-After"]), 5))
            continue
        if r.status_code == 409 and attempt > 1 and (await api.order(oid))["state"] == to:
            break
        raise AssertionError(f"{oid} {action}: {r.status_code} {r.text}")
    run.actions += 1


async def _lifecycle(cluster: Cluster, i: int, run: Run, gate: asyncio.Semaphore) -> None:
    a, b = cluster.apis[i % 2], cluster.apis[(i + 1) % 2]
    h20 = i % 4 != 3  # three in four are H20 under license, the rest RTX PRO (NLR)
    async with gate:
        body = (
            booking(sku="H20", quantity=UNITS, price="100.00")
            if h20
            else booking(sku="RTX-PRO-6000D")
        )
        r = await a.book(body, key=f"scale-{i}")
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
        run.ids.append(oid)
        if h20:
            run.h20.add(oid)
            number = f"DS{len(run.h20) // ORDERS_PER_LICENSE:05d}-{id(run) % 10**6}"
            run.licenses.setdefault(number, []).append(oid)
            await b.wait_state(oid, "COMPLIANCE_REVIEW", every=POLL)
            await _step(a, oid, "approve", "bob", {}, "AWAITING_LICENSE", run)
            quantity = UNITS * ORDERS_PER_LICENSE
            terms = license_terms(number, quantity, f"{quantity * 100}.00")
            await _step(b, oid, "record-license", "carol", terms, "READY_TO_SHIP", run)
        else:
            await b.wait_state(oid, "READY_TO_SHIP", every=POLL)
        await _step(a, oid, "ship", "alice", SHIPMENT, "SHIPPED", run)
        await _step(b, oid, "deliver", "alice", None, "DELIVERED", run)
        run.done_at.append(time.monotonic())


async def _kill_a_worker_early(cluster: Cluster, run: Run, at_actions: int) -> float:
    while run.actions < at_actions:
        await asyncio.sleep(0.05)
    cluster.workers[0].popen.kill()  # SIGKILL: no drain, in-flight tasks time out
    return time.monotonic()


@pytest.mark.timeout(900)
async def test_200_orders_through_two_apis_and_two_workers_lose_nothing(cluster: Cluster) -> None:
    run = Run(ids=[], h20=set(), licenses={})
    gate = asyncio.Semaphore(IN_FLIGHT)
    expected_actions = ORDERS * 2 + sum(2 for i in range(ORDERS) if i % 4 != 3)
    started = time.monotonic()
    killer = asyncio.create_task(_kill_a_worker_early(cluster, run, expected_actions // 20))
    await asyncio.gather(*(_lifecycle(cluster, i, run, gate) for i in range(ORDERS)))
    took = time.monotonic() - started
    killed_at = await killer
    done = sorted(t - started for t in run.done_at)
    print(
        f"\n{ORDERS} orders, {run.actions} actions in {took:.1f} s ({ORDERS / took:.1f} orders/s); "
        f"worker SIGKILLed at {killed_at - started:.1f} s; delivered by (s): 50% {done[99]:.1f}, "
        f"90% {done[179]:.1f}, 99% {done[197]:.1f}, all {done[-1]:.1f}; "
        f"{run.unavailable} answer(s) 503, asked again"
    )
    assert cluster.workers[0].popen.poll() is not None
    assert len(run.ids) == ORDERS
    _assert_every_order_delivered_with_a_clean_trail(cluster.db_url, run)
    for number, orders in run.licenses.items():
        lic = await cluster.apis[0].license(number)
        on_license = [o for o in lic["orders"] if not o["released"]]
        assert sorted(o["order_id"] for o in on_license) == sorted(orders)
        assert lic["allocated_quantity"] == sum(o["quantity"] for o in on_license)
        assert lic["allocated_quantity"] <= lic["approved_quantity"]


def _connect(url: str) -> Any:
    return create_engine(url, poolclass=NullPool).connect()


def _assert_every_order_delivered_with_a_clean_trail(url: str, run: Run) -> None:
    with _connect(url) as connection:
        states = connection.execute(
            text("SELECT state, count(*) FROM orders WHERE id = ANY(:ids) GROUP BY state"),
            {"ids": run.ids},
        ).all()
        events = connection.execute(
            text(
                "SELECT order_id, seq, action, to_state FROM order_events "
                "WHERE order_id = ANY(:ids) ORDER BY order_id, seq"
            ),
            {"ids": run.ids},
        ).all()
    assert dict(states) == {"DELIVERED": ORDERS}
    trails: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        trails[event.order_id].append(event)
    for oid in run.ids:
        trail = trails[oid]
        seqs = [e.seq for e in trail]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (oid, seqs)
        actions = [e.action for e in trail]
        manual = (
            ["approve", "record-license", "ship", "deliver"]
            if oid in run.h20
            else ["ship", "deliver"]
        )
        assert [
            a for a in actions if a in {"approve", "record-license", "ship", "deliver"}
        ] == manual
        assert trail[-1].to_state == "DELIVERED"
