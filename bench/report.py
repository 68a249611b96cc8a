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
NAMES = ("throughput", "lookups", "screening", "scale")
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
        return (
            f"Temporal {ours['temporal']}, worker {ours['worker']}, API {ours['api']} ms "
            f"(bare: Temporal {bare['temporal']}, worker {bare['bare_worker']} ms)"
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


def _scale(db: str, sc: dict[str, Any]) -> list[str]:
    lines = [
        f"### {db} (worker cache {sc.get('worker_max_cached_workflows', '?')} workflows)",
        "",
        "| open orders waiting | added/s | lifecycle probe orders/s | RSS MB worker / Temporal "
        "/ API | idle CPU % worker / Temporal / API |",
        "|---|---|---|---|---|",
    ]
    for level, r in sc["levels"].items():
        rss, cpu = r["rss_mb"], r["idle_cpu_percent"]
        fill = r.get("fill", {}).get("per_s", "–")
        probe = r.get("probe", {}).get("per_s", "–")
        lines.append(
            f"| {level} | {fill} | {probe} | {rss['worker']} / {rss['temporal']} / {rss['api']} "
            f"| {cpu['worker']} / {cpu['temporal']} / {cpu['api']} |"
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
    ):
        if name in data:
            lines += section(data[name])
    lines += ["", _loads(data), ""]
    if "scale" in data:
        lines += ["## 5. How cost grows with open orders", ""]
        for db, sc in data["scale"].items():
            lines += _scale(db, sc)
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
