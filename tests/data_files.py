"""The reference data the tests read, shipped in tests/data/ (see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CSL_SAMPLE = DATA / "csl-sample.csv"
"""13 real rows of the trade.gov Consolidated Screening List CSV, one per source list."""
SDN_EXCERPT = DATA / "ofac-sdn-2021-excerpt"
"""303 entries of OFAC's July 2021 SDN list in the legacy CSV triple (sdn, alt, add)."""
SDN_FILES = ("sdn.csv", "alt.csv", "add.csv")


def csl_sample() -> bytes:
    """The CSL sample file's bytes."""
    return CSL_SAMPLE.read_bytes()


def sdn_excerpt() -> tuple[bytes, bytes, bytes]:
    """The SDN excerpt's sdn.csv, alt.csv and add.csv bytes, in that order."""
    sdn, alt, add = ((SDN_EXCERPT / name).read_bytes() for name in SDN_FILES)
    return sdn, alt, add
