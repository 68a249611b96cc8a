"""Turn the latest bench/out/*.json into bench/RESULTS.md, bench/results/*.json and a plot.

Run from the repository root after the benchmarks: `python -m bench.report`.
"""

from __future__ import annotations

import json
import platform
import shutil
from datetime import UTC, datetime
from typing import Any

from bench._stack import OUT, REPO

RESULTS = REPO / "bench" / "results"
NAMES = ("throughput", "lookups", "screening", "scale")


def _load() -> dict[str, Any]:
    found = {}
    for name in NAMES:
        path = OUT / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
            RESULTS.mkdir(exist_ok=True)
            shutil.copy(path, RESULTS / path.name)
        elif (kept := RESULTS / f"{name}.json").exists():
            # bench/out is scratch space: a benchmark not run again keeps its last results.
            found[name] = json.loads(kept.read_text())
    return found


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _throughput(t: dict[str, Any]) -> list[str]:
    tp, rt = t["throughput"], t["approve_round_trip"]
    ours, base = tp["exportflow"], tp["baseline"]
    cpu, bare_cpu = ours["cpu_ms_per_order"], base["cpu_ms_per_order"]
    rounds = ", ".join(f"{r:.2f}" for r in tp["ratio_by_round"])
    return [
        f"| 1. Order throughput, full lifecycle (N={ours['n']} per side in {tp['rounds']} "
        f"alternating rounds, {ours['concurrency']} at once) "
        f"| {ours['per_s']} orders/s (p50 {ours['p50_ms']:.0f} ms per order) "
        f"| {base['per_s']} orders/s (p50 {base['p50_ms']:.0f} ms) "
        f"| {tp['ratio']:.2f} (rounds: {rounds}) "
        f"| ≥ 0.70: {_met(tp['ratio'] >= 0.7)} |",
        f"| CPU per completed order | Temporal {cpu['temporal']} ms, worker {cpu['worker']} ms, "
        f"API {cpu['api']} ms, load generator {cpu['load_generator']} ms "
        f"| Temporal {bare_cpu['temporal']} ms, worker {bare_cpu['bare_worker']} ms, "
        f"load generator {bare_cpu['load_generator']} ms | | |",
        f"| 3. Action round trip (serial, n={rt['n']}) | POST approve p50 "
        f"{rt['exportflow_http']['p50_ms']} / p99 {rt['exportflow_http']['p99_ms']} ms "
        f"| bare update p50 {rt['baseline_update']['p50_ms']} / p99 "
        f"{rt['baseline_update']['p99_ms']} ms | {rt['p50_ratio']}× (p50) | |",
    ]


def _lookups(lk: dict[str, Any]) -> list[str]:
    get, ceiling, big = lk["get_order"], lk["ceiling_constant_json"], lk["get_order_with_100k"]
    lines = [
        f"| 2. GET /orders/{{id}} (wrk, {get['connections']} connections, {get['seconds']} s) "
        f"| {get['rps']} rps, p50 {get['p50_ms']} / p99 {get['p99_ms']} ms "
        f"| constant JSON: {ceiling['rps']} rps, p50 {ceiling['p50_ms']} / p99 "
        f"{ceiling['p99_ms']} ms | {lk['ratio_rps']:.2f} | ≥ 0.50: {_met(lk['ratio_rps'] >= 0.5)}; "
        f"p99 < 50 ms: {_met(get['p99_ms'] < 50)} |",
        f"| same, with {lk['seeded_orders']:,} orders in the read model | {big['rps']} rps, "
        f"p50 {big['p50_ms']} / p99 {big['p99_ms']} ms | | | |",
    ]
    for name, run in lk["lists"].items():
        serial = run["connections"] == 1
        target = f"p99 < 100 ms: {_met(run['p99_ms'] < 100)}" if serial else ""
        lines.append(
            f"| list `{name}` on {lk['seeded_orders']:,} orders ({run['connections']} conn.) "
            f"| {run['rps']} rps, p50 {run['p50_ms']} / p99 {run['p99_ms']} ms | | | {target} |"
        )
    return lines


def _screening(sc: dict[str, Any]) -> list[str]:
    s = sc["screen"]
    cpu = sc.get("screen_cpu")
    cpu_text = f"; CPU p50 {cpu['p50_ms']} / p99 {cpu['p99_ms']} ms" if cpu else ""
    return [
        f"| 4. Screen one party vs full SDN ({sc['indexed_names']:,} names, "
        f"{sc['queries']} queries) | p50 {s['p50_ms']} / p99 {s['p99_ms']} ms{cpu_text} "
        f"(recall {sc['quality']['recall_listed']}, clean flagged "
        f"{sc['quality']['clean_flagged_rate']}) | | | |"
    ]


def _scale(sc: dict[str, Any]) -> list[str]:
    lines = [
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
    return lines


def _plot(sc: dict[str, Any]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    levels = [k for k in sc["levels"] if k != "empty"]
    xs = [int(k) for k in levels]
    rows = [sc["levels"][k] for k in levels]
    fig, (mem, cpu) = plt.subplots(1, 2, figsize=(11, 4))
    for proc in ("worker", "temporal", "api"):
        mem.plot(xs, [r["rss_mb"][proc] for r in rows], marker="o", label=proc)
        cpu.plot(xs, [r["idle_cpu_percent"][proc] for r in rows], marker="o", label=proc)
    mem.set(xscale="log", xlabel="open orders waiting on a license", ylabel="RSS (MB)")
    cpu.set(
        xscale="log", xlabel="open orders waiting on a license", ylabel="idle CPU (% of a core)"
    )
    mem.set_title("memory grows with open orders")
    cpu.set_title("waiting costs no CPU")
    for ax in (mem, cpu):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = RESULTS / "scale.png"
    fig.savefig(path, dpi=110)
    return path.name


def main() -> None:
    """Write bench/RESULTS.md from the latest results."""
    data = _load()
    head = [
        "# Benchmark results",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.report` on "
        f"{platform.machine()}, Python {platform.python_version()}; JSON in `bench/results/`.",
        "",
        "| measure | exportflow | baseline / ceiling | ratio | target |",
        "|---|---|---|---|---|",
    ]
    body = []
    if "throughput" in data:
        body += _throughput(data["throughput"])
    if "lookups" in data:
        body += _lookups(data["lookups"])
    if "screening" in data:
        body += _screening(data["screening"])
    loads = [
        f"{n} {d['loadavg_before_after'][0][0]} → {d['loadavg_before_after'][1][0]}"
        for n, d in data.items()
        if "loadavg_before_after" in d
    ]
    if "scale" in data and "loadavg_after" in data["scale"]:
        loads.append(f"scale ended at {data['scale']['loadavg_after'][0]}")
    body += ["", "Load average (1 min, 2 cores) at start → end of each run: " + "; ".join(loads)]
    scale = []
    if "scale" in data:
        scale = ["", "## 5. How cost grows with open orders", "", *_scale(data["scale"])]
        if (png := _plot(data["scale"])) is not None:
            scale += ["", f"![memory and idle CPU by open orders](results/{png})"]
    commands = ["", "## Commands", ""] + [
        f"- `{data[n].get('command', 'python -m bench.screening_bench')}`" for n in data
    ]
    notes = (
        (REPO / "bench" / "NOTES.md").read_text() if (REPO / "bench" / "NOTES.md").exists() else ""
    )
    text = "\n".join(head + body + scale + commands) + "\n"
    (REPO / "bench" / "RESULTS.md").write_text(text + ("\n" + notes if notes else ""))
    print(text)


if __name__ == "__main__":
    main()
