"""Write the SDN excerpt in tests/data/ from OFAC's full legacy CSV triple (run once, by hand).

`python tests/data/make_sdn_excerpt.py --sdn-dir PATH` where PATH holds OFAC's sdn.csv,
alt.csv and add.csv. Keeps every 30th entry of sdn.csv plus the entries the tests name, with
all their aliases and addresses, byte for byte (CRLF lines, the DOS end-of-file mark).
"""

from __future__ import annotations

import argparse
from pathlib import Path

OUT = Path(__file__).resolve().parent / "ofac-sdn-2021-excerpt"
EVERY = 30
# Named in tests/services/test_screening_lists.py: Banco Nacional de Cuba (four countries),
# an entry with four programs, an individual; Aerocaribbean is in the matching tests too.
NAMED = {b"36", b"306", b"4632", b"2686"}
EOF_MARK = b"\x1a"


def _lines(path: Path) -> list[bytes]:
    lines = path.read_bytes().split(b"\r\n")
    assert lines[-1] == EOF_MARK, f"{path} does not end with the DOS end-of-file mark"
    return lines[:-1]


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\r\n" for line in lines) + EOF_MARK)


def main() -> None:
    """Write sdn.csv, alt.csv and add.csv of the excerpt."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sdn-dir", type=Path, required=True)
    folder = parser.parse_args().sdn_dir
    sdn = _lines(folder / "sdn.csv")
    kept = [
        line
        for number, line in enumerate(sdn)
        if number % EVERY == 0 or line.split(b",", 1)[0] in NAMED
    ]
    ids = {line.split(b",", 1)[0] for line in kept}
    OUT.mkdir(exist_ok=True)
    _write(OUT / "sdn.csv", kept)
    for name in ("alt.csv", "add.csv"):
        rows = [line for line in _lines(folder / name) if line.split(b",", 1)[0] in ids]
        _write(OUT / name, rows)
    print(f"{len(kept)} entries written to {OUT}")


if __name__ == "__main__":
    main()
