"""Screening speed on the full OFAC SDN list (July 2021): parse, store, index build, screening.

Run from the repository root: `python -m bench.screening_bench --sdn-dir FOLDER`, where FOLDER
holds OFAC's full legacy CSV triple (sdn.csv, alt.csv, add.csv; the July 2021 list has 8,976
entries), and `--database sqlite|postgresql` where the list is stored. Writes
bench/out/screening-DATABASE.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, create_engine

from bench import _db
from schemas.screening import ListedParty
from services.db import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from services.screening.csl import parse_csl
from services.screening.sdn import parse_sdn
from services.screening.store import import_list_file, load_active_parties
from workflows.rules.matching import ScreeningIndex

REPO = Path(__file__).resolve().parents[1]
CSL_SAMPLE = REPO / "tests" / "data" / "csl-sample.csv"
OUT = REPO / "bench" / "out" / "screening.json"
THRESHOLD = 88.0
LISTED_QUERIES = 250
CLEAN_QUERIES = 250
SEED = 2021

# Parts of made-up, unlisted company names of the kind that buy GPUs.
# fmt: off
CITIES = [
    "Shenzhen", "Shanghai", "Hangzhou", "Suzhou", "Munich", "Austin", "Osaka", "Taipei", "Seoul",
    "Bangalore", "Toronto", "Singapore", "Dublin", "Warsaw", "Sydney", "Lyon",
]
WORDS = [
    "Bright", "Blue River", "Quantum", "Northern", "Pacific", "Golden Bay", "Crystal",
    "Silverline", "Apex", "Nova", "Evergreen", "Harbor", "Lumen", "Vertex", "Orchid",
]
TRADES = [
    "Data Systems", "Cloud Computing", "Electronics Trading", "Logistics", "Server Solutions",
    "AI Research", "Information Technology", "Networks", "Compute Services", "Robotics",
]
FORMS = ["Co., Ltd.", "GmbH", "Inc.", "Pte. Ltd.", "LLC", "Limited", "K.K.", "S.A.", "B.V."]
# How Chinese companies are cited: a city before the name, generic words after it.
CN_CITIES = ["Beijing", "Shanghai", "Shenzhen", "Tianjin", "Hangzhou", "Wuhan", "Chengdu", "Xiamen"]
CN_TRADES = [
    "Technology", "Information Technology", "Science and Technology Development",
    "Digital Technology", "Intelligent Technology", "Electronics", "Semiconductor",
    "International Trading", "Group Holdings", "Network Technology", "Data Services",
]
CN_FORMS = ["Co., Ltd.", "Limited", "Group Co., Ltd.", "Company Limited", ""]
# fmt: on

# How a listed name may be written on an order; each must still hit its entry.
VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "exact": lambda name, _rng: name,
    "case": lambda name, _rng: name.title(),
    "punctuation": lambda name, _rng: re.sub(r"[^\w\s]", "", name),
    "legal_suffix": lambda name, rng: f"{name} {rng.choice(['Co., Ltd.', 'LLC', 'GmbH', 'Ltd'])}",
    "word_order": lambda name, _rng: " ".join(reversed(name.replace(",", " ").split())),
    "typo": lambda name, rng: _typo(name, rng),
    "city_and_generic": lambda name, rng: " ".join(
        (rng.choice(CN_CITIES), name, rng.choice(CN_TRADES), rng.choice(CN_FORMS))
    ).strip(),
}
GENERIC_CLEAN_QUERIES = 100
"""Unlisted names made only of a Chinese city, generic words and a legal form."""


def _typo(name: str, rng: random.Random) -> str:
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 6:
        cut = rng.randrange(1, len(word) - 1)
        words[longest] = word[:cut] + word[cut + 1 :]
    return " ".join(words)


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def _listed_queries(parties: list[ListedParty], rng: random.Random) -> list[dict[str, Any]]:
    pool = [p for p in parties if p.entry_type in ("Entity", "Individual")]
    queries = []
    for number, party in enumerate(rng.sample(pool, LISTED_QUERIES)):
        kind = list(VARIANTS)[number % len(VARIANTS)]
        source = rng.choice([party.name, *party.alt_names])
        country = party.countries[0] if party.countries else None
        name = VARIANTS[kind](source, rng)
        queries.append({"name": name, "country": country, "kind": kind, "entry": party.entry_id})
    return queries


def _clean_queries(rng: random.Random) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    while len(names) < CLEAN_QUERIES:
        parts = (rng.choice(CITIES), rng.choice(WORDS), rng.choice(TRADES), rng.choice(FORMS))
        names[" ".join(parts)] = "clean"
    while len(names) < CLEAN_QUERIES + GENERIC_CLEAN_QUERIES:
        parts = (rng.choice(CN_CITIES), rng.choice(CN_TRADES), rng.choice(CN_FORMS))
        names.setdefault(" ".join(parts).strip(), "clean_generic")
    country = ["CN", "DE", "US", "JP", "SG"]
    return [
        {"name": name, "country": rng.choice(country), "kind": kind, "entry": None}
        for name, kind in sorted(names.items())
    ]


def _screen_all(index: ScreeningIndex, queries: list[dict[str, Any]]) -> tuple[list[float], ...]:
    """Wall-clock and CPU milliseconds per query: CPU time is what a busy machine cannot inflate."""
    wall, cpu = [], []
    for query in queries:
        start, start_cpu = time.perf_counter(), time.thread_time()
        hits = index.screen(query["name"], query["country"], THRESHOLD)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        query["hits"] = [hit.entry_id for hit in hits]
    return wall, cpu


def _quality(queries: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = {}
    for query in queries:
        if query["entry"] is not None:
            by_kind.setdefault(query["kind"], []).append(query["entry"] in query["hits"])
    clean = [q for q in queries if q["entry"] is None]
    flagged = [q for q in clean if q["hits"]]
    kinds = sorted({q["kind"] for q in clean})
    count = {kind: sum(q["kind"] == kind for q in clean) for kind in kinds}
    flagged_count = {kind: sum(q["kind"] == kind for q in flagged) for kind in kinds}
    return {
        "recall_by_variant": {k: round(sum(v) / len(v), 3) for k, v in by_kind.items()},
        "recall_listed": round(sum(sum(v) for v in by_kind.values()) / LISTED_QUERIES, 3),
        "missed_examples": [
            q["name"] for q in queries if q["entry"] and q["entry"] not in q["hits"]
        ][:10],
        "clean_flagged_rate": round(len(flagged) / len(clean), 3),
        "clean_flagged_by_kind": {k: f"{flagged_count[k]}/{count[k]}" for k in kinds},
        "clean_flagged_examples": [f"{q['name']} -> {q['hits']}" for q in flagged][:10],
    }


def _percentiles(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(cuts[98], 3),
        "max_ms": round(max(timings), 3),
        "mean_ms": round(statistics.fmean(timings), 3),
    }


def _store_timings(folder: Path, db: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, _db.database(db, Path(tmp)) as url:
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            _, import_ms = _timed(
                lambda: import_list_file(session, path=folder, imported_by="bench")
            )
            _, load_ms = _timed(lambda: load_active_parties(session))
        engine.dispose()
    return {"store_import_ms": round(import_ms, 1), "store_load_active_ms": round(load_ms, 1)}


def _arguments() -> tuple[Path, str]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sdn-dir", type=Path, required=True, help="folder with sdn.csv, alt.csv and add.csv"
    )
    _db.add_argument(parser)
    args = parser.parse_args()
    folder: Path = args.sdn_dir
    missing = [name for name in ("sdn.csv", "alt.csv", "add.csv") if not (folder / name).is_file()]
    if missing:
        parser.error(f"--sdn-dir {folder}: no {', '.join(missing)} there")
    return folder, str(args.database)


def main() -> None:
    """Run the benchmark, print the figures and write bench/out/screening-DATABASE.json."""
    folder, db = _arguments()
    files = [(folder / name).read_bytes() for name in ("sdn.csv", "alt.csv", "add.csv")]
    parties, parse_ms = _timed(lambda: parse_sdn(*files))
    sample = CSL_SAMPLE.read_bytes()
    _, csl_ms = _timed(lambda: parse_csl(sample))
    index, build_ms = _timed(lambda: ScreeningIndex(parties))
    rng = random.Random(SEED)
    queries = _listed_queries(parties, rng) + _clean_queries(rng)
    rng.shuffle(queries)
    index.screen("warm-up", None, THRESHOLD)
    timings, cpu = _screen_all(index, queries)
    report = {
        "entries": len(parties),
        "aliases": sum(len(p.alt_names) for p in parties),
        "indexed_names": len(index),
        "command": "python -m bench.screening_bench --sdn-dir <folder of OFAC's SDN CSV files>"
        f" --database {db}",
        "database": db,
        "queries": len(queries),
        "threshold": THRESHOLD,
        "parse_sdn_ms": round(parse_ms, 1),
        "parse_csl_sample_ms": round(csl_ms, 2),
        "index_build_ms": round(build_ms, 1),
        "screen": _percentiles(timings),
        "screen_cpu": _percentiles(cpu),
        **_store_timings(folder, db),
        "quality": _quality(queries),
    }
    out = OUT.with_name(f"screening-{db}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
