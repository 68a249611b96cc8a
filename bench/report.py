"""Turn the latest bench/out/*.json into bench/RESULTS.md, bench/results/*.json and plots.

Run from the repository root after the benchmarks: `python -m bench.report`. Every benchmark
writes `NAME-sqlite.json` or `NAME-postgresql.json` (`--database`); the tables put the two
backends side by side.
"""

from __future__ import annotations

import json
import platform
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench._db import BACKENDS
from bench._stack import OUT, REPO

RESULTS = REPO / "bench" / "results"
NAMES = ("throughput", "lookups", "screening", "scale", "policy")
Cell = Callable[[dict[str, Any]], str]


def _load() -> dict[str, dict[str, Any]]:
    """{name: {backend: report}}, from bench/out, else as kept in bench/results."""
    found: dict[str, dict[str, Any]] = {}
    for name in NAMES:
        for db in BACKENDS:
            path = OUT / f"{name}-{db}.json"
            if path.exists():
                RESULTS.mkdir(exist_ok=True)
                shutil.copy(path, RESULTS / path.name)
            elif not (path := RESULTS / f"{name}-{db}.json").exists():
                continue  # bench/out is scratch space: a run not repeated keeps its last results
            found.setdefault(name, {})[db] = json.loads(path.read_text())
        legacy = RESULTS / f"{name}.json"  # from before `--database`: those ran on SQLite
        if "sqlite" not in found.get(name, {}) and legacy.exists():
            found.setdefault(name, {})["sqlite"] = json.loads(legacy.read_text())
    return found


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _row(label: str, runs: dict[str, Any], cell: Cell, target: str = "") -> str:
    cells = [cell(runs[db]) if db in runs else "not run" for db in BACKENDS]
    return f"| {label} | {' | '.join(cells)} | {target} |"


def _latency(r: dict[str, Any]) -> str:
    return f"{r['rps']} rps, p50 {r['p50_ms']} / p99 {r['p99_ms']} ms"


def _ratio_cell(lk: dict[str, Any]) -> str:
    get = lk["get_order"]
    ok = lk["ratio_rps"] >= 0.6 and get["p99_ms"] < 50
    return f"**{lk['ratio_rps']:.2f}**, p99 {get['p99_ms']} ms ({_met(ok)})"


def _lookups(runs: dict[str, Any]) -> list[str]:
    seeded = max(r["seeded_orders"] for r in runs.values())
    lines = [
        _row("2. `GET /orders/{id}`, wrk 64 connections", runs, lambda r: _latency(r["get_order"])),
        _row(
            "constant-JSON ceiling, same run", runs, lambda r: _latency(r["ceiling_constant_json"])
        ),
        _row("ratio to the ceiling", runs, _ratio_cell, "≥ 0.60, p99 < 50 ms"),
        _row(
            f"same, {seeded:,} orders in the read model",
            runs,
            lambda r: _latency(r["get_order_with_100k"]),
        ),
    ]
    names = next(iter(runs.values()))["lists"]
    for name in names:
        mixed = name == "mixed_64_connections"
        label = f"list `{name}`, {seeded:,} orders, " + ("64 conn." if mixed else "1 conn.")

        def cell(r: dict[str, Any], name: str = name, mixed: bool = mixed) -> str:
            run = r["lists"][name]
            text = _latency(run)
            return f"**{text}** ({_met(run['p99_ms'] < 150)})" if mixed else text

        lines.append(_row(label, runs, cell, "p99 < 150 ms" if mixed else ""))
    return lines


def _throughput(runs: dict[str, Any]) -> list[str]:
    def ratio(r: dict[str, Any]) -> str:
        tp = r["throughput"]
        rounds = ", ".join(f"{x:.2f}" for x in tp["ratio_by_round"])
        ok = tp["ratio"] >= 0.85 and min(tp["ratio_by_round"]) >= 0.8
        return f"**{tp['ratio']:.2f}** (rounds {rounds}; {_met(ok)})"

    def rates(r: dict[str, Any]) -> str:
        ours, base = r["throughput"]["exportflow"], r["throughput"]["baseline"]
        return f"{ours['per_s']} vs bare {base['per_s']} orders/s"

    def cpu(r: dict[str, Any]) -> str:
        ours = r["throughput"]["exportflow"]["cpu_ms_per_order"]
        bare = r["throughput"]["baseline"]["cpu_ms_per_order"]
        # PostgreSQL's own CPU (all its backends) is in runs since 2026-12-01.
        pg = f", PostgreSQL {ours['postgresql']}" if "postgresql" in ours else ""
        pg_bare = f", PostgreSQL {bare['postgresql']}" if "postgresql" in bare else ""
        return (
            f"Temporal {ours['temporal']}, worker {ours['worker']}, API {ours['api']}{pg} ms "
            f"(bare: Temporal {bare['temporal']}, worker {bare['bare_worker']}{pg_bare} ms)"
        )

    def trip(r: dict[str, Any]) -> str:
        rt = r["approve_round_trip"]
        ours, bare = rt["exportflow_http"], rt["baseline_update"]
        return f"p50 {ours['p50_ms']} / p99 {ours['p99_ms']} ms (bare update p50 {bare['p50_ms']})"

    return [
        _row("1. Full lifecycle vs bare Temporal, same run", runs, ratio, "≥ 0.85, rounds ≥ 0.80"),
        _row("orders per second", runs, rates),
        _row("CPU per completed order", runs, cpu),
        _row("3. `POST .../approve` round trip, serial", runs, trip),
    ]


def _screening(runs: dict[str, Any]) -> list[str]:
    def cell(sc: dict[str, Any]) -> str:
        s, cpu = sc["screen"], sc.get("screen_cpu")
        cpu_text = f"; CPU p50 {cpu['p50_ms']} / p99 {cpu['p99_ms']} ms" if cpu else ""
        recall = sc["quality"]["recall_listed"]
        return f"p50 {s['p50_ms']} / p99 {s['p99_ms']} ms{cpu_text} (recall {recall})"

    return [_row("4. Screen one party vs the full SDN list", runs, cell)]


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _policy(runs: dict[str, Any]) -> list[str]:
    def preview(r: dict[str, Any]) -> str:
        if "preview" not in r:
            return "not run"
        local = r["preview"]["in_process"]
        wall, cpu = _median([x["wall_s"] for x in local]), _median([x["cpu_s"] for x in local])
        n, changed = local[0]["open_orders"], local[0]["changed"]
        return (
            f"**{wall} s** wall, {cpu} s CPU ({n:,} orders, {changed:,} change; {_met(wall < 10)})"
        )

    def over_api(r: dict[str, Any]) -> str:
        if "preview" not in r:
            return "not run"
        runs_ = r["preview"]["api"]
        wall = _median([x["wall_s"] for x in runs_])
        return f"{wall} s ({runs_[0]['bytes'] / 1e6:.1f} MB of JSON)"

    def fan(r: dict[str, Any]) -> str:
        if "fanout" not in r:
            return "not run"
        f = r["fanout"]
        return (
            f"judged in **{f['fan_out_s']} s**, {f['orders_changed']:,} of {f['orders']:,} "
            f"changed and recorded in **{f['all_changes_recorded_s']} s**"
        )

    def lookups(key: str) -> Cell:
        def cell(r: dict[str, Any]) -> str:
            return _latency(r["fanout"][key]) if "fanout" in r else "not run"

        return cell

    return [
        _row("6. Impact preview of a rule set, in-process", runs, preview, "< 10 s"),
        _row("same, `GET /rulesets/{v}/impact`", runs, over_api),
        _row("7. Activation fan-out", runs, fan),
        _row("status lookups (8 at a time) before it", runs, lookups("lookups_before")),
        _row("status lookups during it", runs, lookups("lookups_during_fan_out")),
    ]


def _eviction(r: dict[str, Any]) -> str:
    probe = r.get("action_evicted_vs_cached")
    if not probe or "evicted" not in probe:
        return "–"
    ok = probe["evicted"]["p99_ms"] <= 2 * probe["cached"]["p99_ms"]
    return (
        f"{probe['evicted']['p99_ms']} / {probe['cached']['p99_ms']} ms "
        f"({probe['p99_ratio']}×, {_met(ok)})"
    )


def _scale(db: str, sc: dict[str, Any]) -> list[str]:
    lines = [
        f"### {db} (worker cache {sc.get('worker_max_cached_workflows', '?')} workflows)",
        "",
        "| open orders waiting | added/s | lifecycle probe orders/s | RSS MB worker / Temporal "
        "/ API | idle CPU % worker / Temporal / API | `hold` p99 evicted / cached (≤ 2×) |",
        "|---|---|---|---|---|---|",
    ]
    for level, r in sc["levels"].items():
        rss, cpu = r["rss_mb"], r["idle_cpu_percent"]
        fill = r.get("fill", {}).get("per_s", "–")
        probe = r.get("probe", {}).get("per_s", "–")
        lines.append(
            f"| {level} | {fill} | {probe} | {rss['worker']} / {rss['temporal']} / {rss['api']} "
            f"| {cpu['worker']} / {cpu['temporal']} / {cpu['api']} | {_eviction(r)} |"
        )
    return [*lines, ""]


def _loads(data: dict[str, dict[str, Any]]) -> str:
    loads = [
        f"{name} ({db}) {r['loadavg_before_after'][0][0]} → {r['loadavg_before_after'][1][0]}"
        for name, runs in data.items()
        for db, r in runs.items()
        if "loadavg_before_after" in r
    ]
    return "Load average (1 min, 2 cores) at start → end of each run: " + "; ".join(loads)


_SOAK_HOW = """\
How: the plans of `tests/faults` (`support.plans`, the saved lifecycle and order-change paths,
a split's remainder driven to delivery too), each order with its own external reference,
Idempotency-Key and license numbers (the basic plans share a license per ten orders, as in
the fault tests). Faults fall at random points of the share of orders started; while they
lag, new orders wait (`orders_held_back_s` in the JSON), and a worker kill waits until the
restarted worker polls again. Temporal is SIGKILLed and SIGTERMed in turn and started on
its port and database file; PostgreSQL refuses the database (`ALLOW_CONNECTIONS false`, open
sessions ended). Each order talks to one API and moves to the other when a connection is
refused; reads and bookings are sent again after a 503 or a broken connection, actions as
`tests/faults` sends them. A resent action is refused (409) when its first attempt went
through and only the answer was lost; it counts as done once the read model shows the state
the action leads to (for a 422 on a filed ITN: once the shipment shows), and the row above
counts such refusals. While the workflow and the read model disagree (a step being written,
or a re-run step behind the read model after a worker kill), the workflow answers "busy" and
the API tries again, then answers 503: the 409 names a state `GET /orders/{id}` shows. The
first run (05:15 UTC) predates that answer: 3 of its refusals named a state the read model
showed only seconds later.""".splitlines()


def _soak() -> list[str]:
    """The chaos soak (`bench.soak`), from bench/results/soak-postgresql.json."""
    path = RESULTS / "soak-postgresql.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    chaos, http, checks = r["chaos"], r["http"], r["checks"]
    done = ", ".join(
        f"{label} {chaos['done'][k]} of {chaos['requested'][k]}"
        for k, label in (
            ("worker_kills", "worker SIGKILLs"),
            ("temporal_restarts", "Temporal restarts"),
            ("pg_outages", f"PostgreSQL outages ({chaos['outage_seconds']:g} s)"),
            ("api_kills", "API SIGKILLs"),
        )
    )
    paths = ", ".join(f"{name} {n}" for name, n in r["paths"].items())
    load = r["loadavg_before_after"]
    t = r["order_ms"]
    rows = [
        ("orders", f"{r['orders']} ({r['concurrency']} at once; and "
         f"{r['paths'].get('split', 0)} split remainders): {paths}"),
        ("faults done", done),
        ("finished as planned / failed / unfinished",
         f"{r['orders_finished']} / {r['orders_failed']} / {r['orders_unfinished']}"),
        ("lost / booked twice / over-drawn",
         f"**{checks['lost']} / {checks['duplicated']} / {checks['over_drawn']}**"),
        ("orders not where their plan leaves them", str(checks["not_in_expected_state"])),
        ("invariant problems (`tests/faults/invariants.py`)", str(checks["invariant_problems"])),
        ("Idempotency-Keys that booked exactly one order",
         f"{checks['idempotency_keys_booked_exactly_once']} of "
         f"{checks['idempotency_keys_acknowledged']}"),
        ("`exportflow audit verify`", f"exit {checks['audit_verify_exit']}"),
        ("503s answered / requests sent again / failovers to the other API",
         f"{http['503s']} / {http['resent_by_client']} / {http['failovers_to_other_api']}"),
        ("bookings answered as replays of their Idempotency-Key", str(http["bookings_replayed"])),
        ("resent actions refused (409, or 422 for a filed ITN) that had gone through",
         str(http["refused_resends_that_had_gone_through"])),
        ("one order, booking to its end", f"p50 {t['p50_ms'] / 1000:.1f} s, "
         f"p99 {t['p99_ms'] / 1000:.1f} s, max {t['max_ms'] / 1000:.1f} s"),
        ("unexpected process exits", str(len(chaos["unexpected_exits"]))),
    ]  # fmt: skip
    return [
        "## Soak (issue 15)",
        "",
        f"`{r['command']}` on PostgreSQL: 2 APIs and 2 workers as processes, one persisted "
        f"Temporal dev server; started {r['started_at']}, {r['minutes']} minutes; load average "
        f"(1 min, 2 cores, shared) {load[0][0]} → {load[1][0]}. "
        f"**{'Passed' if r['passed'] else 'Failed'}.**",
        "",
        "| measure | figure |",
        "|---|---|",
        *(f"| {label} | {figure} |" for label, figure in rows),
        "",
        *_SOAK_HOW,
        "",
    ]


def main() -> None:
    """Write bench/RESULTS.md from the latest results."""
    data = _load()
    lines = [
        "# Benchmark results",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.report` on "
        f"{platform.machine()}, Python {platform.python_version()}; JSON in `bench/results/`.",
        "",
        "| measure | SQLite | PostgreSQL | target |",
        "|---|---|---|---|",
    ]
    for name, section in (
        ("throughput", _throughput),
        ("lookups", _lookups),
        ("screening", _screening),
        ("policy", _policy),
    ):
        if name in data:
            lines += section(data[name])
    lines += ["", _loads(data), ""]
    if "scale" in data:
        lines += ["## 5. How cost grows with open orders", ""]
        for db, sc in data["scale"].items():
            lines += _scale(db, sc)
    lines += _soak()
    lines += ["## Commands", ""]
    lines += [
        f"- `{r['command']}`" for runs in data.values() for r in runs.values() if "command" in r
    ]
    notes_file = REPO / "bench" / "NOTES.md"
    notes = notes_file.read_text() if notes_file.exists() else ""
    text = "\n".join(lines) + "\n"
    (REPO / "bench" / "RESULTS.md").write_text(text + ("\n" + notes if notes else ""))
    print(text)


if __name__ == "__main__":
    main()
