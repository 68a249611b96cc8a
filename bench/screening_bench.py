"""Screening speed on the full OFAC SDN list (July 2021): parse, store, index build, screening.

Run from the repository root: `python -m bench.screening_bench [--database sqlite|postgresql]`.
Writes bench/out/screening-DATABASE.json.
The shared data folder sits beside the repository (../shared/data).
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
SHARED = REPO / ".." / "shared" / "data"
OUT = REPO / "bench" / "out" / "screening.json"
THRESHOLD = 88.0
LISTED_QUERIES = 250
CLEAN_QUERIES = 250
SEED = 2021

# How a listed name may be written on an order; each must still hit its entry.
VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "exact": lambda name, _rng: name,
    "case": lambda name, _rng: name.title(),
    "punctuation": lambda name, _rng: re.sub(r"[^\w\s]", "", name),
    "legal_suffix": lambda name, rng: f"{name} {rng.choice(['Co., Ltd.', 'LLC', 'GmbH', 'Ltd'])}",
    "word_order": lambda name, _rng: " ".join(reversed(name.replace(",", " ").split())),
    "typo": lambda name, rng: _typo(name, rng),
}

# Parts of made-up, unlisted company names of the kind that buy GPUs.
CITIES = [
    "Shenzhen",
    "Shanghai",
    "Hangzhou",
    "Suzhou",
    "Munich",
    "Austin",
    "Osaka",
    "Taipei",
    "Seoul",
    "Bangalore",
    "Toronto",
    "Singapore",
    "Dublin",
    "Warsaw",
    "Sydney",
    "Lyon",
]
WORDS = [
    "Bright",
    "Blue River",
    "Quantum",
    "Northern",
    "Pacific",
    "Golden Bay",
    "Crystal",
    "Silverline",
    "Apex",
    "Nova",
    "Evergreen",
    "Harbor",
    "Lumen",
    "Vertex",
    "Orchid",
]
TRADES = [
    "Data Systems",
    "Cloud Computing",
    "Electronics Trading",
    "Logistics",
    "Server Solutions",
    "AI Research",
    "Information Technology",
    "Networks",
    "Compute Services",
    "Robotics",
]
FORMS = ["Co., Ltd.", "GmbH", "Inc.", "Pte. Ltd.", "LLC", "Limited", "K.K.", "S.A.", "B.V."]


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
    names: set[str] = set()
    while len(names) < CLEAN_QUERIES:
        parts = (rng.choice(CITIES), rng.choice(WORDS), rng.choice(TRADES), rng.choice(FORMS))
        names.add(" ".join(parts))
    country = ["CN", "DE", "US", "JP", "SG"]
    return [
        {"name": name, "country": rng.choice(country), "kind": "clean", "entry": None}
        for name in sorted(names)
    ]


def _screen_all(index: ScreeningIndex, queries: list[dict[str, Any]]) -> list[float]:
    timings = []
    for query in queries:
        start = time.perf_counter()
        hits = index.screen(query["name"], query["country"], THRESHOLD)
        timings.append((time.perf_counter() - start) * 1000)
        query["hits"] = [hit.entry_id for hit in hits]
    return timings


def _quality(queries: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = {}
    for query in queries:
        if query["entry"] is not None:
            by_kind.setdefault(query["kind"], []).append(query["entry"] in query["hits"])
    clean = [q for q in queries if q["entry"] is None]
    flagged = [q for q in clean if q["hits"]]
    return {
        "recall_by_variant": {k: round(sum(v) / len(v), 3) for k, v in by_kind.items()},
        "recall_listed": round(sum(sum(v) for v in by_kind.values()) / LISTED_QUERIES, 3),
        "missed_examples": [
            q["name"] for q in queries if q["entry"] and q["entry"] not in q["hits"]
        ][:10],
        "clean_flagged_rate": round(len(flagged) / len(clean), 3),
        "clean_flagged_examples": [q["name"] for q in flagged][:10],
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


def main() -> None:
    """Run the benchmark, print the figures and write bench/out/screening-DATABASE.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    _db.add_argument(parser)
    args = parser.parse_args()
    folder = (SHARED / "ofac-sdn-2021").resolve()
    files = [(folder / name).read_bytes() for name in ("sdn.csv", "alt.csv", "add.csv")]
    parties, parse_ms = _timed(lambda: parse_sdn(*files))
    sample = (SHARED / "csl-sample.csv").read_bytes()
    _, csl_ms = _timed(lambda: parse_csl(sample))
    index, build_ms = _timed(lambda: ScreeningIndex(parties))
    rng = random.Random(SEED)
    queries = _listed_queries(parties, rng) + _clean_queries(rng)
    rng.shuffle(queries)
    index.screen("warm-up", None, THRESHOLD)
    timings = _screen_all(index, queries)
    report = {
        "entries": len(parties),
        "aliases": sum(len(p.alt_names) for p in parties),
        "indexed_names": len(index),
        "queries": len(queries),
        "threshold": THRESHOLD,
        "parse_sdn_ms": round(parse_ms, 1),
        "parse_csl_sample_ms": round(csl_ms, 2),
        "index_build_ms": round(build_ms, 1),
        "screen": _percentiles(timings),
        "database": args.database,
        **_store_timings(folder, args.database),
        "quality": _quality(queries),
    }
    out = OUT.with_name(f"screening-{args.database}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
