"""Run `wrk` (Debian package `wrk`) against loopback URLs and parse what it prints."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_LUA = """
local paths = {%s}
local token = "%s"
local n = 0
request = function()
  n = n + 1
  local path = paths[(n %% #paths) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit], 2)


def parse(output: str) -> dict[str, Any]:
    """Requests per second, p50/p90/p99 in ms and non-2xx count from wrk's --latency output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    dist = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if rps is None or len(dist) < 3:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    return {
        "rps": round(float(rps.group(1))),
        "p50_ms": _ms(dist["50"]),
        "p90_ms": _ms(dist["90"]),
        "p99_ms": _ms(dist["99"]),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else None,
    }


def run(
    base: str,
    paths: list[str],
    *,
    token: str = "",
    connections: int = 64,
    threads: int = 2,
    seconds: int = 10,
) -> dict[str, Any]:
    """GET `paths` in turn on `base` for a fixed time (wrk stops by itself)."""
    if not base.startswith("http://127.0.0.1:"):
        raise ValueError("load goes to loopback only")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    quoted = ", ".join(f'"{p}"' for p in paths)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_LUA % (quoted, token))
        args = [
            wrk,
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            # Slow answers must count in the latency; wrk drops those past its 2 s default.
            "--timeout",
            "30s",
        ]
        done = subprocess.run(
            [*args, "-s", str(script), base],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    return parse(done.stdout) | {"connections": connections, "seconds": seconds}
