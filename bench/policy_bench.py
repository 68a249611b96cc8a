"""Policy changes at 10,000 open orders: the impact preview, and the activation fan-out.

    python -m bench.policy_bench --database sqlite|postgres [--orders 10000] [--phase both]

`preview`: 10,000 open orders written into the read model (bench/policy_seed.py), a staged rule
set (the H20 letter tightened to presumption of denial, RTX PRO 6000D needing a license, a
Chinese customs stop on the H200), then the preview three times in-process (wall and CPU) and
three times through `exportflow api` (`GET /rulesets/{v}/impact`, JSON).

`fanout`: a Temporal dev server, worker and API as processes; 10,000 orders booked through the
CSV import and screened and determined by real workflows; the same rule set staged and
previewed, then approved by two officers: the time until the fan-out reports done, the time
until every changed order shows the change, and status lookups (`GET /orders/{id}`, 8 at a
time) during it against the same load before it. Results: bench/out/policy-<database>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench._stack import OUT, Proc, exportflow, exportflow_env, free_port, loadavg, tool, wait_http
from bench.policy_fanout import fan_out_phase
from bench.policy_seed import seed_open_orders
from schemas.rulesets import StageRuleSet
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade
from services.policy import store
from services.policy.impact import preview
from services.rules_store import DbRuleSource
from workflows.catalog import load_catalog

PG_BASE = os.environ.get(
    "EXPORTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def notice(version: str) -> dict[str, Any]:
    """The rule set measured: three changes of the kind a notice makes."""
    raw = load_catalog().ruleset.model_dump(mode="json")
    raw |= {"version": version, "effective_from": date.today().isoformat()}
    for rule in raw["rules"]:
        if rule["id"] == "IS-INFORMED-2025-04-H20":
            rule["policy"] = "presumption_of_denial"
        if rule["id"] == "RTX-PRO-DESIGNED-TO-COMPLY":
            rule.update(license_required=True, policy="license_required")
    raw["import_restrictions"] = [
        {
            "id": "STOP-H200-CN",
            "text": "CN customs refuses H200",
            "destinations": ["CN"],
            "skus": ["H200"],
            "effective_from": "2026-01-01",
        }
    ]
    return {"ruleset": raw, "citation": "bench notice"}


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'exportflow.db'}"
        upgrade(url)
        yield url
        return
    name = f"exportflow_bench_{random.getrandbits(40):010x}"
    admin = create_engine(PG_BASE, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _stage(url: str, version: str) -> None:
    engine = make_engine(url)
    with session_factory(engine, write=True)() as session:
        body = StageRuleSet.model_validate(notice(version))
        store.stage(session, body=body, actor="bob", now=datetime.now(UTC))
        session.commit()
    engine.dispose()


def _in_process(url: str, version: str, runs: int) -> list[dict[str, Any]]:
    engine = make_engine(url)
    read = session_factory(engine)
    catalog = DbRuleSource(read).catalog_of(version)
    out = []
    for _ in range(runs):
        with read() as session:
            wall, cpu = time.perf_counter(), time.process_time()
            report = preview(session, version=version, catalog=catalog, on=date.today())
            out.append(
                {
                    "wall_s": round(time.perf_counter() - wall, 2),
                    "cpu_s": round(time.process_time() - cpu, 2),
                    "open_orders": report.open_orders,
                    "changed": report.changed_orders,
                }
            )
    engine.dispose()
    return out


def over_http(base: str, token: str, version: str, runs: int) -> list[dict[str, Any]]:
    """`GET /rulesets/{version}/impact` as a client sees it: seconds, size, counts."""
    out = []
    with httpx.Client(base_url=base, timeout=600) as http:
        for _ in range(runs):
            began = time.perf_counter()
            r = http.get(
                f"/api/v1/rulesets/{version}/impact", headers={"Authorization": f"Bearer {token}"}
            )
            r.raise_for_status()
            body = r.json()
            out.append(
                {
                    "wall_s": round(time.perf_counter() - began, 2),
                    "bytes": len(r.content),
                    "open_orders": body["open_orders"],
                    "changed": body["changed_orders"],
                    "server_s": body["seconds"],
                }
            )
    return out


def preview_phase(kind: str, orders: int, work: Path) -> dict[str, Any]:
    """Seed, stage, preview in-process and through the API."""
    with database(kind, work) as url:
        began = time.perf_counter()
        seed_open_orders(session_factory(make_engine(url), write=True), orders)
        seeded = round(time.perf_counter() - began, 1)
        version = "bench-preview"
        _stage(url, version)
        load = [loadavg()]
        local = _in_process(url, version, 3)
        env = exportflow_env(database_url=url, temporal_address="127.0.0.1:1")
        token = exportflow(["token", "create", "--user", "vic", "--role", "viewer"], env).strip()
        port = free_port()
        api = Proc([tool("exportflow"), "api", "--port", str(port)], work / "api.log", env)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            http = over_http(f"http://127.0.0.1:{port}", token, version, 3)
        finally:
            api.stop()
        load.append(loadavg())
    return {
        "orders": orders,
        "seed_s": seeded,
        "in_process": local,
        "api": http,
        "loadavg_before_after": load,
    }


def main() -> None:
    """Run the phases asked for; print and write bench/out/policy-<database>.json."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--phase", choices=["preview", "fanout", "both"], default="both")
    args = p.parse_args()
    result: dict[str, Any] = {
        "command": f"python -m bench.policy_bench --database {args.database} --orders "
        f"{args.orders} --phase {args.phase}",
        "database": args.database,
    }
    with tempfile.TemporaryDirectory(prefix="policy-bench-") as tmp:
        if args.phase in ("preview", "both"):
            (Path(tmp) / "p").mkdir()
            result["preview"] = preview_phase(args.database, args.orders, Path(tmp) / "p")
            print(json.dumps(result["preview"], indent=1), flush=True)
        if args.phase in ("fanout", "both"):
            (Path(tmp) / "f").mkdir()
            with database(args.database, Path(tmp) / "f") as url:
                result["fanout"] = asyncio.run(
                    fan_out_phase(url, args.orders, Path(tmp) / "f", notice("bench-fanout"))
                )
            print(json.dumps(result["fanout"], indent=1), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"policy-{args.database}.json"
    old = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps(old | result, indent=2) + "\n")


if __name__ == "__main__":
    main()
